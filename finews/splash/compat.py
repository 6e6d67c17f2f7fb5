"""scrapy-splash 0.11.1 on current Scrapy: three shims, each to delete once an upstream release fixes it.

finews imports scrapy-splash only from here. Each shim names its upstream issue and the test
that fails without it (tests/test_splash_compat.py; the real-Splash tests in test_share.py too):

1. scrapy-splash#332 (open): it imports ``canonicalize_url`` from ``scrapy.utils.url``, which
   Scrapy 2.16 removed (the function lives on in ``w3lib.url``, where Scrapy's copy came from).
   When ``scrapy.utils.url`` has none, w3lib's is put there before ``scrapy_splash`` is imported.
   Without it ``import scrapy_splash`` raises ImportError
   (``test_scrapy_splash_imports_on_this_scrapy``).
2. scrapy-splash#330: its default ``per_domain`` slot policy calls ``Downloader._get_slot_key``,
   removed in Scrapy 2.15. ``SplashRequest`` here defaults to the ``scrapy_default`` policy, and
   ``SplashSlotMiddleware`` puts each Splash request into the download slot of the page it
   renders through the public ``Downloader.get_slot_key`` (what ``per_domain`` did: the share
   host's politeness holds for its renders). Without it every Splash request fails with
   AttributeError (``test_splash_requests_keep_the_page_hosts_slot``).
3. scrapy-splash#331 (closed unmerged): ``SplashMiddleware.process_request``/``process_response``
   take the ``spider`` argument Scrapy 2.14 deprecated, one ScrapyDeprecationWarning a run and an
   error in the tests. ``SplashMiddleware`` here takes none and hands scrapy-splash the crawler's
   spider (``test_no_deprecated_middleware_signatures``).
scrapy-splash's ``SplashCookiesMiddleware`` (Splash sessions) and ``SplashDeduplicateArgsMiddleware``
are not used: finews sends no cookies and no session ids, and Scrapy 2.19 refuses the latter.
"""

from __future__ import annotations

from typing import Any

import scrapy.utils.url
from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from w3lib.url import canonicalize_url

if not hasattr(scrapy.utils.url, "canonicalize_url"):  # 1. scrapy-splash#332
    scrapy.utils.url.canonicalize_url = canonicalize_url

import scrapy_splash
from scrapy_splash import SlotPolicy

__all__ = ["SplashMiddleware", "SplashRequest", "SplashSlotMiddleware"]


class SplashRequest(scrapy_splash.SplashRequest):
    """scrapy-splash's request with the ``scrapy_default`` slot policy (2. scrapy-splash#330)."""

    def __init__(self, *args: Any, slot_policy: str = SlotPolicy.SCRAPY_DEFAULT, **kwargs: Any) -> None:
        super().__init__(*args, slot_policy=slot_policy, **kwargs)


class SplashSlotMiddleware:
    """A Splash request waits in the download slot of the page it renders (2. scrapy-splash#330)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SplashSlotMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if "splash" in request.meta and "download_slot" not in request.meta:
            request.meta["download_slot"] = self.crawler.engine.downloader.get_slot_key(request)


class SplashMiddleware(scrapy_splash.SplashMiddleware):
    """scrapy-splash's middleware without the deprecated ``spider`` argument (3. scrapy-splash#331)."""

    def process_request(self, request: Request) -> Any:
        return super().process_request(request, self.crawler.spider)

    def process_response(self, request: Request, response: Response) -> Any:
        return super().process_response(request, response, self.crawler.spider)
