"""Protect the crawl from a failing Splash: back off between retries, and stop sending after repeated failures.

A Splash request that is a retry waits ``FINEWS_SPLASH_RETRY_BACKOFF`` × 2^(retry-1)
seconds first. After ``FINEWS_SPLASH_BREAKER_THRESHOLD`` failures in a row (5xx answers
from Splash, timeouts, refused connections) the breaker opens: Splash requests are
ignored for ``FINEWS_SPLASH_BREAKER_SECONDS`` (doubling each time it opens again), then
one request is let through to probe. The share pages it skips are marked failed and
picked up later by ``scrapy crawl share -a missing=1``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import reactor
from twisted.internet.task import deferLater

logger = logging.getLogger(__name__)


class SplashCircuitOpen(IgnoreRequest):
    """Splash kept failing; requests to it are skipped for a while."""


class SplashBreakerMiddleware:
    def __init__(self, stats: Any, threshold: int, cooldown: float, backoff: float) -> None:
        self.stats = stats
        self.threshold = threshold
        self.base_cooldown = cooldown
        self.cooldown = cooldown
        self.backoff = backoff
        self.failures = 0
        self.open_until = 0.0
        self.probing = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SplashBreakerMiddleware:
        settings = crawler.settings
        if not settings.get("SPLASH_URL"):
            raise NotConfigured  # no Splash, nothing to protect (quietly: cron runs without Splash are normal)
        return cls(crawler.stats, settings.getint("FINEWS_SPLASH_BREAKER_THRESHOLD"),
                   settings.getfloat("FINEWS_SPLASH_BREAKER_SECONDS"), settings.getfloat("FINEWS_SPLASH_RETRY_BACKOFF"))

    async def process_request(self, request: Request) -> None:
        if "splash" not in request.meta:
            return
        now = time.monotonic()
        if now < self.open_until or self.probing:
            self.stats.inc_value("finews/splash/circuit_skipped")
            raise SplashCircuitOpen(f"Splash circuit open for {self.open_until - now:.0f} s more")
        if self.failures >= self.threshold:
            self.probing = True  # half-open: this request decides
        retries = request.meta.get("retry_times", 0)
        if retries and self.backoff > 0:
            await maybe_deferred_to_future(deferLater(reactor, self.backoff * 2 ** (retries - 1), lambda: None))

    def process_response(self, request: Request, response: Response) -> Response:
        if "splash" in request.meta:
            if response.status >= 500:
                self._failed(f"HTTP {response.status}")
            else:
                self._succeeded()
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if "splash" in request.meta and not isinstance(exception, IgnoreRequest):
            self._failed(type(exception).__name__)

    def _failed(self, why: str) -> None:
        self.failures += 1
        self.stats.inc_value("finews/splash/failures")
        if self.probing or self.failures == self.threshold:
            if self.probing:
                self.cooldown *= 2
            self.probing = False
            self.open_until = time.monotonic() + self.cooldown
            self.stats.inc_value("finews/splash/circuit_opened")
            logger.error("Splash failed %d times in a row (last: %s): not sending to it for %.0f s",
                         self.failures, why, self.cooldown)

    def _succeeded(self) -> None:
        if self.failures >= self.threshold:
            logger.info("Splash answers again: circuit closed")
        self.failures = 0
        self.probing = False
        self.cooldown = self.base_cooldown
