"""The distributed scheduler: scrapy-redis's, kept open while the shared crawl may still get work.

A worker whose own engine has nothing to do stays while the Redis queue holds
requests (scrapy-redis's own ``has_pending_requests``), and for
``FINEWS_REDIS_IDLE_SECONDS`` after it last saw work: another worker may still be
fetching pages that add requests. At close, its queue length and the session's
seen count go to the stats (and so to ``crawl_runs``).

``enqueue_request`` and ``next_request`` are scrapy-redis 0.9.1's own, with the stats
counted without the ``spider`` argument Scrapy 2.19 deprecated (scrapy-redis passes it).
"""

from __future__ import annotations

import time
from typing import Any

from scrapy.crawler import Crawler
from scrapy.http import Request
from scrapy_redis.scheduler import Scheduler


class SharedScheduler(Scheduler):
    idle_seconds = 10.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedScheduler:
        scheduler = super().from_crawler(crawler)
        scheduler.idle_seconds = crawler.settings.getfloat("FINEWS_REDIS_IDLE_SECONDS")
        scheduler.last_work = time.monotonic()
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

    def has_pending_requests(self) -> bool:
        if super().has_pending_requests():
            self.last_work = time.monotonic()
            return True
        return time.monotonic() - self.last_work < self.idle_seconds

    def close(self, reason: str) -> Any:
        if self.stats is not None:
            self.stats.set_value("finews/redis/queue_left", len(self.queue))
            self.stats.set_value("finews/redis/session_seen", self.server.scard(self.df.key))
        return super().close(reason)
