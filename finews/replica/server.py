"""The replica's HTTP server: conditional requests, and knobs to make it slow or faulty."""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections import Counter
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from finews.replica.site import Page, Site, api_error

logger = logging.getLogger(__name__)


class _Server(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: a crawl opening 16 connections at once had the rest
    # of its SYNs dropped, and waited out TCP's 1 s retransmission. Web servers queue hundreds.
    request_queue_size = 128


# Answers of 200 that are no article: (content type, body).
_JSON = "application/json; charset=utf-8"
API_FAULT_BODIES = {
    "empty": (_JSON, b""),
    "error_object": (_JSON, '{"success": false, "message": "文章不存在"}'.encode()),
    "html_200": ("text/html; charset=utf-8", "<html><body><h1>系统繁忙</h1></body></html>".encode()),
    "null": (_JSON, b"null"),
    "empty_text": (_JSON, '{"text": "\u3000\u3000<br>\u3000\u3000"}'.encode()),
}


class Replica:
    """Serve a ``Site`` on 127.0.0.1 in a background thread.

    Knobs (attributes, changeable while it runs): ``latency`` seconds added to
    every answer, ``error_rate`` share of answers that are 503, ``truncate_rate``
    share of bodies cut short (the connection closes before Content-Length is
    reached), ``api_faults`` {info code: "status_500" | "invalid_json" | "empty" |
    "wrong_id" | "error_object" | "html_200" | "null" | "empty_text"} for direct calls
    of the share JSON endpoint ("*" for every code; the share page's own XHR still
    gets the article).
    """

    def __init__(self, posts_dir: str | Path, *, host: str = "127.0.0.1", port: int = 0,
                 layout: str = "new", latency: float = 0.0, error_rate: float = 0.0,
                 truncate_rate: float = 0.0, seed: int = 0) -> None:
        self.site = Site(posts_dir, layout=layout)
        self.host = host
        self.port = port
        self.latency = latency
        self.error_rate = error_rate
        self.truncate_rate = truncate_rate
        self.api_faults: dict[str, str] = {}
        self.hits: Counter[tuple[str, int]] = Counter()
        self.paths: Counter[str] = Counter()
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self) -> Replica:
        self._server = _Server((self.host, self.port), _handler_for(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="replica", daemon=True)
        self._thread.start()
        logger.info("replica of %d posts serving %s", len(self.site.posts), self.url)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Replica:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset_counters(self) -> None:
        with self._lock:
            self.hits.clear()
            self.paths.clear()

    def count(self, kind: str, status: int | None = None) -> int:
        """Requests answered for a kind of page (post, listing, feed, share, api, other)."""
        with self._lock:
            return sum(n for (k, s), n in self.hits.items() if k == kind and (status is None or s == status))

    def _chance(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self._random.random() < rate

    def _record(self, kind: str, status: int, path: str) -> None:
        with self._lock:
            self.hits[(kind, status)] += 1
            self.paths[path] += 1


def _kind(site: Site, path: str) -> str:
    if path in ("/", "/index.html") or path.startswith("/category/"):
        return "listing"
    if path == "/feed.xml":
        return "feed"
    if path.lower() == "/html_news/newsshare.html":
        return "share"
    if path == "/NewsData/GetNewsText.do":
        return "api"
    if path.startswith("/raw/"):
        return "raw"
    return "post" if path in site.by_path else "other"


def _handler_for(replica: Replica) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "finews-replica/1"
        # Headers and body go out in two writes: with Nagle's algorithm on, a kept-alive connection
        # waited for the client's delayed ACK (40 ms) before the body of every answer.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
            logger.debug("replica: " + format, *args)

        def handle(self) -> None:
            try:
                super().handle()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client went away (a killed crawl, a cut body): nothing to answer

        def do_HEAD(self) -> None:
            self._answer(head=True)

        def do_GET(self) -> None:
            self._answer(head=False)

        def _answer(self, head: bool) -> None:
            parts = urlsplit(self.path)
            path = unquote(parts.path)
            kind = _kind(replica.site, path)
            if replica.latency > 0:
                time.sleep(replica.latency)
            if replica._chance(replica.error_rate):
                self._send(503, "text/plain; charset=utf-8", b"Service Unavailable", kind, path, head)
                return
            if kind == "api":
                self._api(parse_qs(parts.query).get("id", [""])[0], kind, path, head)
                return
            if kind == "raw":
                self._raw(path, kind, head)
                return
            page = replica.site.page(path)
            if page.status == 200 and self._not_modified(page):
                self._send(304, None, b"", kind, path, head, page)
                return
            self._send(page.status, page.content_type, page.body, kind, path, head, page)

        def _raw(self, path: str, kind: str, head: bool) -> None:
            """A post source as raw.githubusercontent.com serves it: /raw/_posts/<file>."""
            root = replica.site.posts_dir.resolve()
            target = (root / path[len("/raw/"):]).resolve()
            if root in target.parents and target.is_file():
                self._send(200, "text/plain; charset=utf-8", target.read_bytes(), kind, path, head)
            else:
                self._send(404, "text/plain; charset=utf-8", b"404: Not Found", kind, path, head)

        def _not_modified(self, page: Page) -> bool:
            tags = self.headers.get("If-None-Match")
            if tags is not None:
                return page.etag in [t.strip() for t in tags.split(",")] or tags.strip() == "*"
            since = self.headers.get("If-Modified-Since")
            if since:
                try:
                    return parsedate_to_datetime(since) >= replica.site.built_at
                except (TypeError, ValueError):
                    return False
            return False

        def _api(self, code: str, kind: str, path: str, head: bool) -> None:
            # Faults hit direct callers only: the share page's own XHR still gets the article, as
            # with endpoints that check who calls them (so a rendered page can succeed where the API fails).
            from_page = self.headers.get("X-Requested-With") == "XMLHttpRequest"
            fault = None if from_page else replica.api_faults.get(code) or replica.api_faults.get("*")
            answer = replica.site.api_answer(code) if code else None
            if fault == "status_500":
                self._send(500, "text/html; charset=utf-8", b"<h1>500 Internal Server Error</h1>", kind, path, head)
            elif fault == "invalid_json":
                self._send(200, _JSON, b'{"text": "\\u3000\\u3000', kind, path, head)
            elif fault in API_FAULT_BODIES:
                self._send(200, API_FAULT_BODIES[fault][0], API_FAULT_BODIES[fault][1], kind, path, head)
            elif answer is None:
                self._send(404, _JSON, api_error(code), kind, path, head)
            else:
                if fault == "wrong_id":
                    answer["id"] = "NW000000000000000000"
                body = json.dumps(answer, ensure_ascii=False).encode("utf-8")
                self._send(200, _JSON, body, kind, path, head)

        def _send(self, status: int, content_type: str | None, body: bytes, kind: str, path: str,
                  head: bool, page: Page | None = None) -> None:
            replica._record(kind, status, path)
            truncate = status == 200 and len(body) > 1 and replica._chance(replica.truncate_rate)
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            if page is not None and page.status == 200:
                self.send_header("ETag", page.etag)
                self.send_header("Last-Modified", replica.site.last_modified)
            self.send_header("Content-Length", str(len(body)))
            if truncate:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if head or status == 304:
                return
            self.wfile.write(body[: len(body) // 2] if truncate else body)

    return Handler
