"""One ``crawl_runs`` document per run: spider, arguments, start and end, finish reason, stats, errors.

Records older than FINEWS_RUNS_KEEP_DAYS are deleted at the end of each run, so a year of cron runs every
few minutes keeps the collection (and ``finews status``, and the yield monitor) bounded.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime
from typing import Any

from pymongo.errors import PyMongoError
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import threads

from finews.monitors import INPUTS
from finews.outcome import exit_status
from finews.redact import redact_all
from finews.storage.archive import Archive, archive_for, redact_uri

logger = logging.getLogger(__name__)
# Scrapy's own stats worth keeping beside finews/*.
SCRAPY_STATS = (
    "item_scraped_count", "item_dropped_count", "response_received_count", "downloader/request_count",
    "log_count/ERROR", "log_count/WARNING", "elapsed_time_seconds", "memusage/max",
)


class CrawlRuns:
    def __init__(self, crawler: Crawler, archive: Archive, keep_days: float) -> None:
        self.crawler = crawler
        self.archive = archive
        self.keep_days = keep_days
        self.run_id: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRuns:
        archive = archive_for(crawler)
        if archive is None:
            raise NotConfigured("FINEWS_STORE is off")
        ext = cls(crawler, archive, crawler.settings.getfloat("FINEWS_RUNS_KEEP_DAYS"))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    async def spider_opened(self, spider: Any) -> None:
        record = {
            "spider": spider.name,
            "arguments": redact_all(dict(getattr(spider, "run_arguments", {}))),
            # What kind of run (incremental, refresh, import, …): monitors compare a run with runs of its kind.
            "kind": getattr(spider, "run_kind", None),
            "started_at": datetime.now(UTC),
            "status": "running",
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "database": redact_uri(self.archive.uri) if self.archive.embedded is None else "embedded",
        }
        await self._call(self._start, record)

    async def spider_closed(self, spider: Any, reason: str) -> None:
        stats = self.crawler.stats.get_stats()
        kept = {k: v for k, v in stats.items() if k.startswith("finews/") or k in SCRAPY_STATS}
        code, why = exit_status({**stats, "finish_reason": reason})
        fields = {
            "exit_status": code,
            "exit_reason": why,
            "finished_at": datetime.now(UTC),
            "finish_reason": reason,
            "status": "finished" if reason == "finished" else "failed",
            "stats": {k.replace(".", "_"): v for k, v in kept.items()},
            "errors": stats.get("log_count/ERROR", 0),
            # A run the yield monitor may compare later runs of its spider and kind with (finews.monitors).
            "yardstick": code == 0 and stats.get(INPUTS, 0) > 0,
        }
        await self._call(self._finish, fields)

    def _start(self, record: dict) -> None:
        self.run_id = self.archive.start_run(record)

    def _finish(self, fields: dict) -> None:
        if self.run_id is not None:
            self.archive.finish_run(self.run_id, fields)
        pruned = self.archive.prune_runs(self.keep_days)
        if pruned:
            logger.info("crawl_runs: %d record(s) older than FINEWS_RUNS_KEEP_DAYS (%s) deleted", pruned,
                        self.keep_days)

    async def _call(self, function: Any, argument: dict) -> None:
        def failed(failure: Any) -> None:
            failure.trap(PyMongoError)
            logger.warning("crawl_runs not written: %s", failure.getErrorMessage())

        await maybe_deferred_to_future(threads.deferToThread(function, argument).addErrback(failed))
