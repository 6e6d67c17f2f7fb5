"""One crawl as both ``scrapy crawl`` and ``finews crawl`` run it: checks first, then the run, then its status.

Every mistake an operator can make on the command line (an unknown spider, an
argument it does not take or cannot use, a setting that cannot be used) is found
here before anything starts, as one line; the exit status of what did run comes
from finews.outcome, the same for both commands.
"""

from __future__ import annotations

from typing import Any

import redis
from redis.exceptions import RedisError
from scrapy.crawler import CrawlerProcess

from finews import outcome
from finews.arguments import ArgumentProblem, parse_arguments
from finews.defaults import check
from finews.redact import redact

QUEUE_TIMEOUT_SECONDS = 5.0


class QueueDown(Exception):
    """The Redis a distributed run shares its queue through does not answer: one line, exit status 4."""


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
    _queue_answers(process.settings.get("FINEWS_REDIS_URL"))
    return spidercls


def _queue_answers(url: str | None) -> None:
    """Ask the shared queue before the engine does: scrapy-redis finds a dead Redis only inside the engine's
    start, which then fails to close ("Engine slot not assigned") in tracebacks and ends 7."""
    if not url:
        return
    client = redis.Redis.from_url(url, socket_connect_timeout=QUEUE_TIMEOUT_SECONDS,
                                  socket_timeout=QUEUE_TIMEOUT_SECONDS)
    try:
        client.ping()
    except RedisError as exc:
        raise QueueDown(f"Redis at {redact(url)} does not answer ({type(exc).__name__})") from None
    finally:
        client.close()


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
