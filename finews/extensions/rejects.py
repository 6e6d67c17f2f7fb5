"""Keep every rejected input: a stat, a log line and a record an operator can find.

Drops from pipelines (``Rejected``) arrive through Scrapy's ``item_dropped``;
inputs that never became an item (an unparseable page, a failed fetch) through
``finews.rejects.item_rejected``. Records go to the archive's ``rejects``
collection in batches; without an archive, or while it does not answer, to a
JSON-lines file (FINEWS_REJECTS_FILE).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from bson.errors import InvalidDocument
from itemadapter import ItemAdapter
from pymongo.errors import PyMongoError
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import defer, threads

from finews.items import ShareFailure
from finews.rejects import fit_raw
from finews.signals import item_rejected, share_failed
from finews.storage.archive import Archive, archive_for

logger = logging.getLogger(__name__)
BATCH = 100
DETAIL_MAX_CHARS = 2000


def _plain(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


class RejectLog:
    def __init__(self, stats: Any, path: Path, raw_max_chars: int, archive: Archive | None) -> None:
        self.stats = stats
        self.path = path
        self.raw_max_chars = raw_max_chars
        self.archive = archive
        self._file: TextIO | None = None
        self._pending: list[dict[str, Any]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RejectLog:
        settings = crawler.settings
        path = settings.get("FINEWS_REJECTS_FILE") or str(Path(settings.get("FINEWS_OUTPUT_DIR")) / "rejects.jsonl")
        ext = cls(crawler.stats, Path(path), settings.getint("FINEWS_REJECT_RAW_MAX_CHARS"), archive_for(crawler))
        crawler.signals.connect(ext.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(ext.item_rejected, signal=item_rejected)
        crawler.signals.connect(ext.share_failed, signal=share_failed)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def item_dropped(self, item: Any, response: Any, exception: BaseException, spider: Any) -> None:
        reason = getattr(exception, "reason", "other")
        self.stats.inc_value(f"finews/dropped/{reason}")
        if getattr(exception, "keep", True):
            raw = ItemAdapter(item).asdict() if ItemAdapter.is_item(item) else repr(item)
            # Where it was read (a local source's file:// URL), else its page: what a requeue reads again.
            url = ((raw.get("fetched_from") or raw.get("url")) if isinstance(raw, dict) else None) \
                or getattr(response, "url", None)
            self._keep(spider, reason, str(getattr(exception, "detail", exception)), url, raw)

    def item_rejected(self, reason: str, detail: str, url: str | None, raw: Any, spider: Any) -> None:
        self.stats.inc_value(f"finews/dropped/{reason}")
        logger.warning("Rejected %s (%s): %s", url, reason, detail)
        self._keep(spider, reason, detail, url, raw)

    def share_failed(self, failure: ShareFailure, spider: Any) -> None:
        """A share page that gave no article (counted by the spider as finews/share/failed/<reason>)."""
        self._keep(spider, f"share_{failure.reason}", failure.detail, failure.url, {"info_code": failure.info_code})

    async def spider_closed(self, spider: Any) -> None:
        await maybe_deferred_to_future(self._flush().addBoth(self._close_file))

    def _keep(self, spider: Any, reason: str, detail: str, url: str | None, raw: Any) -> None:
        record = {
            "time": datetime.now(UTC), "spider": spider.name, "reason": reason,
            "detail": detail[:DETAIL_MAX_CHARS], "url": url[:DETAIL_MAX_CHARS] if isinstance(url, str) else url,
            "raw": fit_raw(raw, self.raw_max_chars),
        }
        if self.archive is None:
            self._to_file([record])
            return
        self._pending.append(record)
        if len(self._pending) >= BATCH:
            self._flush()

    def _flush(self) -> defer.Deferred:
        records, self._pending = self._pending, []
        if not records:
            return defer.succeed(None)

        def written(refused: list[dict[str, Any]]) -> None:
            if refused:
                logger.warning("%d reject record(s) refused by MongoDB: they go to %s", len(refused), self.path)
                self._to_file(refused)

        def failed(failure: Any) -> None:
            failure.trap(PyMongoError, InvalidDocument)
            # The exception's type only: its message may carry whole documents.
            logger.warning("rejects collection not written (%s): records go to %s", failure.type.__name__, self.path)
            self._to_file(records)

        return threads.deferToThread(self.archive.add_rejects, records).addCallbacks(written, failed)

    def _to_file(self, records: list[dict[str, Any]]) -> None:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
        for record in records:
            line = {k: v for k, v in record.items() if k != "_id"}
            self._file.write(json.dumps(line, ensure_ascii=False, default=_plain) + "\n")
        self._file.flush()

    def _close_file(self, result: Any) -> Any:
        if self._file is not None:
            self._file.close()
            self._file = None
            logger.info("Rejected inputs kept in %s", self.path)
        return result
