"""The distributed scheduler: scrapy-redis's, kept open while the shared crawl may still get work.

A worker whose own engine has nothing to do stays while the Redis queue holds
requests (scrapy-redis's own ``has_pending_requests``), and, through the public
``spider_idle`` signal, for ``FINEWS_REDIS_IDLE_SECONDS`` after it last saw work:
another worker may still be fetching pages that add requests. (Not through
``has_pending_requests``: Scrapy holds a spider's start requests back while the
scheduler says it has some, which cost a one-worker crawl a fifth of its time in
benchmarks/distributed.py.) The engine asks again only at its 5 s heartbeat, so the
scheduler itself checks when the window ends, and closes the spider through the
engine's public ``close_spider_async`` if the engine is still idle then. At close, its
queue length and the session's seen count go to the stats (and so to ``crawl_runs``).

``enqueue_request`` and ``next_request`` are scrapy-redis 0.9.1's own, with the stats
counted without the ``spider`` argument Scrapy 2.19 deprecated (scrapy-redis passes it).
"""

from __future__ import annotations

import time
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Request
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.reactor import CallLaterOnce
from scrapy_redis.scheduler import Scheduler


class SharedScheduler(Scheduler):
    idle_seconds = 10.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedScheduler:
        scheduler = super().from_crawler(crawler)
        scheduler.idle_seconds = crawler.settings.getfloat("FINEWS_REDIS_IDLE_SECONDS")
        scheduler.last_work = time.monotonic()
        scheduler.crawler = crawler
        scheduler.window_end = CallLaterOnce(scheduler.close_if_still_idle)
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        return scheduler

    def enqueue_request(self, request: Request) -> bool:
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        if self.stats is not None:
            self.stats.inc_value("scheduler/enqueued/redis")
        self.queue.push(request)
        self.last_work = time.monotonic()
        return True

    def next_request(self) -> Request | None:
        request = self.queue.pop(self.idle_before_close)
        if request is not None:
            self.last_work = time.monotonic()
            if self.stats is not None:
                self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def spider_idle(self) -> None:
        left = self.idle_seconds - (time.monotonic() - self.last_work)
        if left > 0:
            self.window_end.schedule(left)
            raise DontCloseSpider

    def close_if_still_idle(self) -> None:
        """The idle window is over: close now if nothing came (else the engine's own idle check decides)."""
        engine = self.crawler.engine
        if engine is None or not engine.spider_is_idle():
            return
        left = self.idle_seconds - (time.monotonic() - self.last_work)
        if left > 0:
            self.window_end.schedule(left)
            return
        deferred_from_coro(engine.close_spider_async(reason="finished"))


    def close(self, reason: str) -> Any:
        self.window_end.cancel()
        if self.stats is not None:
            self.stats.set_value("finews/redis/queue_left", len(self.queue))
            self.stats.set_value("finews/redis/session_seen", self.server.scard(self.df.key))
        return super().close(reason)
