"""Keep every rejected input: a stat, a log line and a record an operator can find.

Drops from pipelines (``Rejected``) arrive through Scrapy's ``item_dropped``;
inputs that never became an item (an unparseable page, a failed fetch) through
``finews.rejects.item_rejected``. Records go to a JSON-lines file.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, TextIO

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.crawler import Crawler

from finews.dates import utc_now_iso
from finews.rejects import item_rejected

logger = logging.getLogger(__name__)


class RejectLog:
    def __init__(self, stats: Any, path: Path, raw_max_chars: int) -> None:
        self.stats = stats
        self.path = path
        self.raw_max_chars = raw_max_chars
        self._file: TextIO | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RejectLog:
        settings = crawler.settings
        path = settings.get("FINEWS_REJECTS_FILE") or str(Path(settings.get("FINEWS_OUTPUT_DIR")) / "rejects.jsonl")
        ext = cls(crawler.stats, Path(path), settings.getint("FINEWS_REJECT_RAW_MAX_CHARS"))
        crawler.signals.connect(ext.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(ext.item_rejected, signal=item_rejected)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def item_dropped(self, item: Any, response: Any, exception: BaseException, spider: Any) -> None:
        reason = getattr(exception, "reason", "other")
        self.stats.inc_value(f"finews/dropped/{reason}", spider=spider)
        if getattr(exception, "keep", True):
            raw = ItemAdapter(item).asdict() if ItemAdapter.is_item(item) else repr(item)
            url = raw.get("url") if isinstance(raw, dict) else getattr(response, "url", None)
            self._write(spider, reason, str(getattr(exception, "detail", exception)), url, raw)

    def item_rejected(self, reason: str, detail: str, url: str | None, raw: Any, spider: Any) -> None:
        self.stats.inc_value(f"finews/dropped/{reason}", spider=spider)
        logger.warning("Rejected %s (%s): %s", url, reason, detail)
        self._write(spider, reason, detail, url, raw)

    def spider_closed(self, spider: Any) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            logger.info("Rejected inputs kept in %s", self.path)

    def _write(self, spider: Any, reason: str, detail: str, url: str | None, raw: Any) -> None:
        if isinstance(raw, str) and len(raw) > self.raw_max_chars:
            raw = {"truncated_from": len(raw), "text": raw[: self.raw_max_chars]}
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
        record = {
            "time": utc_now_iso(), "spider": spider.name, "reason": reason,
            "detail": detail, "url": url, "raw": raw,
        }
        self._file.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        self._file.flush()
