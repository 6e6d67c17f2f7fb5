"""Progress of long imports on a terminal (files done/total, rate, ETA), and a summary line at the end.

Quiet when stderr is not a terminal (cron): the summary line goes to the log either way.
A spider takes part by setting ``progress_total`` (the number of files it will read).
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any, TextIO

from scrapy import signals
from scrapy.crawler import Crawler
from twisted.internet import task

logger = logging.getLogger(__name__)
SUMMARY = ("new", "unchanged", "merged", "revised")


class Progress:
    def __init__(self, crawler: Crawler, stream: TextIO, interval: float) -> None:
        self.crawler = crawler
        self.stream = stream
        self.interval = interval
        self._loop: task.LoopingCall | None = None
        self._started = 0.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        ext = cls(crawler, sys.stderr, crawler.settings.getfloat("FINEWS_PROGRESS_SECONDS"))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Any) -> None:
        self._started = time.monotonic()
        if self.stream.isatty() and hasattr(spider, "progress_total"):
            self._loop = task.LoopingCall(self.show, spider)
            self._loop.start(self.interval, now=False)

    def show(self, spider: Any) -> None:
        total = getattr(spider, "progress_total", None)
        done = self.crawler.stats.get_value(getattr(spider, "progress_stat", "finews/posts/files"), 0)
        elapsed = max(time.monotonic() - self._started, 1e-6)
        rate = done / elapsed
        if total:
            eta = (total - done) / rate if rate else float("inf")
            line = f"{done}/{total} files  {rate:,.0f}/s  ETA {_duration(eta)}"
        else:
            line = f"{done} files  {rate:,.0f}/s"
        self.stream.write(f"\r\x1b[K{line}")
        self.stream.flush()

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
            self.stream.write("\n")
        stats = self.crawler.stats
        counts = {name: stats.get_value(f"finews/articles/{name}", 0) for name in SUMMARY}
        rejected = sum(v for k, v in stats.get_stats().items()
                       if k.startswith("finews/dropped/") and k != "finews/dropped/duplicate")
        logger.info("Summary (%s): %s, rejected %d, in %s", reason,
                    ", ".join(f"{name} {count}" for name, count in counts.items()), rejected,
                    _duration(time.monotonic() - self._started))


def _duration(seconds: float) -> str:
    if seconds == float("inf"):
        return "?"
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
