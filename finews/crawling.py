"""One crawl as both ``scrapy crawl`` and ``finews crawl`` run it: checks first, then the run, then its status.

Every mistake an operator can make on the command line (an unknown spider, an
argument it does not take or cannot use, a setting that cannot be used) is found
here before anything starts, as one line; the exit status of what did run comes
from finews.outcome, the same for both commands.
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import CrawlerProcess

from finews import outcome
from finews.arguments import ArgumentProblem, parse_arguments
from finews.defaults import check


def checked_spider(process: CrawlerProcess, name: str, spider_args: dict[str, str]) -> Any:
    """The spider class, once the settings and its arguments are known to be usable (else ArgumentProblem)."""
    check(process.settings)
    try:
        spidercls = process.spider_loader.load(name)
    except KeyError:
        known = ", ".join(sorted(process.spider_loader.list()))
        raise ArgumentProblem(f"no spider named {name!r} (spiders: {known})") from None
    accepted = getattr(spidercls, "arguments", None)
    if accepted is not None:
        parse_arguments(name, accepted, spider_args)
        spidercls(**spider_args)  # the spider's own checks (one argument or another is needed): nothing runs yet
    return spidercls


def crawl(process: CrawlerProcess, spidercls: Any, spider_args: dict[str, str]) -> tuple[int, str, dict[str, Any]]:
    """Run a spider ``checked_spider`` gave to its end: (exit status, why, stats)."""
    crawler = process.create_crawler(spidercls)
    process.crawl(crawler, **spider_args)
    process.start()
    if process.bootstrap_failed:
        return outcome.CUT_SHORT, "the spider did not start (see the log)", {}
    stats = crawler.stats.get_stats()
    status, why = outcome.exit_status(stats)
    return status, why, stats
