"""Distributed workers stay while the shared queue may still get work, then close.

A worker whose own engine is idle keeps waiting while the Redis queue holds
requests, and for ``FINEWS_REDIS_IDLE_SECONDS`` after it last saw work (another
worker may still be fetching pages that add requests). Its queue length and the
session's seen count go to the stats (and so to ``crawl_runs``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured

logger = logging.getLogger(__name__)


class SharedQueue:
    def __init__(self, crawler: Crawler, idle_seconds: float) -> None:
        self.crawler = crawler
        self.idle_seconds = idle_seconds
        self.last_work = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedQueue:
        if not crawler.settings.get("FINEWS_REDIS_URL"):
            raise NotConfigured
        ext = cls(crawler, crawler.settings.getfloat("FINEWS_REDIS_IDLE_SECONDS"))
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(ext.request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def request_scheduled(self, request: Any, spider: Any) -> None:
        self.last_work = time.monotonic()

    def spider_idle(self, spider: Any) -> None:
        scheduler = self.crawler.engine._slot.scheduler  # scrapy-redis: its queue is shared by all workers
        if len(scheduler.queue):
            self.last_work = time.monotonic()
            raise DontCloseSpider
        if time.monotonic() - self.last_work < self.idle_seconds:
            raise DontCloseSpider

    def spider_closed(self, spider: Any, reason: str) -> None:
        scheduler = self.crawler.engine._slot.scheduler if self.crawler.engine._slot else None
        if scheduler is None:
            return
        stats = self.crawler.stats
        stats.set_value("finews/redis/queue_left", len(scheduler.queue))
        stats.set_value("finews/redis/session_seen", scheduler.df.server.scard(scheduler.df.key))
