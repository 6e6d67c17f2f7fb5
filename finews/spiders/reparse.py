"""The ``reparse`` spider: archived articles re-derived from their raw captures, with no network.

Each article whose current text has a capture (``capture``: WARC file, offset, record id) is read
back from that record and made again by today's parser and normalizer, through the same pipelines
(validate, dedupe, store): a text today's rules make differently becomes a revision by the merge
rule; an unchanged one changes nothing. Only the capture of the current text is read, not every
capture ever made: replaying all of them would re-run the merge rule's order-dependent choices.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from pymongo.errors import PyMongoError
from scrapy.exceptions import CloseSpider
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import threads

from finews.arguments import Argument, parse_arguments
from finews.dates import parse_post_date
from finews.items import Article
from finews.monitors import INPUTS
from finews.parsing.capture import article_from_capture
from finews.signals import item_rejected
from finews.spiders.compat import Spider
from finews.storage.archive import archive_for
from finews.storage.warc import read_record


class ReparseSpider(Spider):
    name = "reparse"
    run_kind = "reparse"
    progress_stat = "finews/reparse/tried"  # the progress line's count (finews/extensions/progress.py)
    arguments: ClassVar[dict[str, Argument]] = {
        "since": Argument("date", "articles published from this day on (YYYY-MM-DD, UTC+8)"),
        "until": Argument("date", "articles published up to this day, inclusive (YYYY-MM-DD, UTC+8)"),
        "category": Argument("text", "only this category"),
    }

    def __init__(self, **kwargs: Any) -> None:
        self.run_arguments = parse_arguments(self.name, self.arguments, kwargs)
        super().__init__()
        given = self.run_arguments
        self.since = parse_post_date(given["since"]) if given.get("since") else None
        until = parse_post_date(given["until"]) if given.get("until") else None
        self.until = until + timedelta(days=1) if until else None
        self.category = given.get("category")
        self.progress_total: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> ReparseSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.archive = archive_for(crawler)
        spider.folder = Path(crawler.settings.get("FINEWS_DATA_DIR")) / "warc"
        spider.site_url = crawler.settings.get("FINEWS_BASE_URL")
        return spider

    async def start(self) -> AsyncIterator[Article]:
        if self.archive is None:
            raise CloseSpider("reparse needs the archive (FINEWS_STORE)")
        try:
            articles = await maybe_deferred_to_future(threads.deferToThread(
                self.archive.captured_articles, self.since, self.until, self.category))
        except PyMongoError as exc:
            raise CloseSpider(f"archive not answering: {type(exc).__name__}") from exc
        self.progress_total = len(articles)
        self.crawler.stats.set_value(INPUTS, len(articles))
        self.logger.info("%d archived article(s) with a capture to re-derive", len(articles))
        for current in articles:
            made = await maybe_deferred_to_future(threads.deferToThread(self._article, current))
            self.crawler.stats.inc_value(self.progress_stat)
            if isinstance(made, Article):
                self.crawler.stats.inc_value("finews/reparse/read")
                yield made
                continue
            reason, detail = made
            pointer = current["capture"]
            self.crawler.stats.inc_value(f"finews/reparse/{reason}")
            self.crawler.signals.send_catch_log(signal=item_rejected, reason=reason, detail=detail,
                                                url=f"{pointer['file']}#{pointer['offset']}", raw=None, spider=self)

    def _article(self, current: dict[str, Any]) -> Article | tuple[str, str]:
        """Read and parse in a worker thread (the file read is blocking I/O); the article, or why none."""
        pointer = current["capture"]
        try:
            captured = read_record(self.folder, pointer)
        except OSError as exc:
            return "capture_missing", f"{type(exc).__name__}: {exc}"[:500]
        except ValueError as exc:
            return "capture_unreadable", str(exc)[:500]
        try:
            article = article_from_capture(current["via"], captured.uri, captured.body, current, self.site_url)
        except ValueError as exc:
            return getattr(exc, "reason", None) or "reparse_no_article", str(exc)[:500]
        article.capture = pointer
        article.fetched_at = captured.date
        return article
