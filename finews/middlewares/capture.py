"""Raw captures of what finews reads (finews/storage/warc.py): every response, as the spiders see it.

Placed below scrapy-splash (724/725) and the compression middleware (810): ``process_response``
runs from the highest order down, so the body kept is the decoded one, and a Splash answer is
already its JSON. The pointer of the record (file, offset, record id) goes into the request's meta
as ``finews_capture``, where the callback that makes the article finds it in ``response.meta``; its file
and offset are filled in once the capture writer process has written the record (the store pipeline waits for them).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import threads

from finews.signals import source_read
from finews.storage.warc import WarcStore, warc_for

META_KEY = "finews_capture"


class CaptureMiddleware:
    def __init__(self, crawler: Crawler, store: WarcStore) -> None:
        self.crawler = crawler
        self.store = store

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CaptureMiddleware:
        store = warc_for(crawler)
        if store is None:
            raise NotConfigured("FINEWS_WARC is off")
        middleware = cls(crawler, store)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(middleware.source_read, signal=source_read)
        return middleware

    async def spider_opened(self, spider: Spider) -> None:
        await maybe_deferred_to_future(threads.deferToThread(self.store.open))

    async def spider_closed(self, spider: Spider) -> None:
        await maybe_deferred_to_future(threads.deferToThread(self.store.close))
        stats = self.crawler.stats
        stats.set_value("finews/warc/records", self.store.records)
        stats.set_value("finews/warc/bytes", self.store.bytes)
        stats.set_value("finews/warc/revisits", self.store.revisits)
        if self.store.recovered:
            stats.set_value("finews/warc/recovered", self.store.recovered)

    def process_response(self, request: Request, response: Response) -> Response:
        splash = request.meta.get("splash")
        if splash:
            # A Splash render: the share page as Splash's browser made it, an exchange between Splash and the
            # site that finews did not see. Kept as a resource record named by the page it rendered.
            page = (splash.get("args") or {}).get("url") or response.url
            pointer = self.store.capture_resource(page, response.body, "application/json",
                                                  {"WARC-Source-URI": request.url})
        elif response.url.startswith("file://"):
            pointer = self.store.capture_resource(response.url, response.body, "text/markdown")
        else:
            pointer = self.store.capture_response(
                response.url, response.status, _reason(response.status), _headers(response.headers),
                response.body, request.method, _headers(request.headers))
        request.meta[META_KEY] = pointer
        return response

    def source_read(self, uri: str, data: bytes) -> dict[str, Any]:
        """A post source the posts spider read itself (no request): a resource record with its path."""
        return self.store.capture_resource(uri, data, "text/markdown")


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _headers(headers: Any) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, values in headers.items() for value in values]


def captured(response: Response) -> dict[str, Any] | None:
    """The capture of the response an item is made from (None with capture off)."""
    return response.meta.get(META_KEY)
