"""Share pages, for any spider: the JSON endpoint first, Splash when it fails, a failure mark when both do.

Requests are deduplicated by info code (not by URL or Splash arguments) and
keep their real URL (scrapy-splash shows the share page's URL in logs and stats).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from finews.codes import canonical_info_code
from finews.dates import utc_now_iso
from finews.items import Article, ShareFailure
from finews.middlewares.capture import captured
from finews.parsing.share import ShareError, api_url, parse_share_json, parse_share_page, share_page_url
from finews.signals import share_failed
from finews.splash import WAIT_FOR_ARTICLE
from finews.splash.compat import SplashRequest


class ShareRequests:
    """Mixin: call ``init_share(settings)`` from ``from_crawler``, then ``share_requests(code, link)``."""

    crawler: Any
    logger: Any

    def init_share(self, settings: Any) -> None:
        self.share_hosts = {h.strip().lower() for h in settings.getlist("FINEWS_SHARE_HOSTS") if h.strip()}
        self.share_base = settings.get("FINEWS_SHARE_BASE_URL") or ""
        self.splash_url = settings.get("SPLASH_URL") or ""
        self.splash_wait = settings.getfloat("FINEWS_SPLASH_WAIT")
        self.splash_timeout = settings.getfloat("FINEWS_SPLASH_TIMEOUT")
        self._share_seen: set[str] = set()

    def share_requests(self, code: str | None, link: str | None = None,
                       post: dict[str, Any] | None = None) -> Iterator[scrapy.Request]:
        """The API request for an article's share page, once per info code; nothing for other hosts.

        ``post`` is what the post page (or the archive) says of the article: its ``title`` and
        ``published_at``, which the endpoint's answer does not carry (finews/parsing/share.py).
        """
        code = canonical_info_code(code)
        if not code or code in self._share_seen:
            return
        self._share_seen.add(code)
        host = urlsplit(link).hostname if link else next(iter(sorted(self.share_hosts)), None)
        if not host or host.lower() not in self.share_hosts:
            self.crawler.stats.inc_value("finews/share/host_not_allowed")
            self.logger.debug("share link %s is not on an allowed host", link)
            return
        base = self.share_base or (f"{urlsplit(link).scheme}://{urlsplit(link).netloc}/" if link else f"http://{host}/")
        page = share_page_url(base, code)
        self.crawler.stats.inc_value("finews/share/requested")
        yield scrapy.Request(
            api_url(base, code), callback=self.parse_share_api, errback=self.share_api_failed, dont_filter=True,
            # No retries: a failed answer sends the page to Splash, which is the retry.
            meta={"share_code": code, "share_page": page, "share_post": post or {}, "dont_retry": True},
        )

    def parse_share_api(self, response: Response) -> Iterator[Any]:
        code, page = response.meta["share_code"], response.meta["share_page"]
        try:
            article = parse_share_json(response.body, code)
        except ShareError as exc:
            yield from self._render(code, page, response.meta["share_post"], exc.reason, exc.detail)
            return
        yield self._shared(article, page, "api", response)

    def share_api_failed(self, failure: Failure) -> Iterator[Any]:
        meta = failure.request.meta
        yield from self._render(meta["share_code"], meta["share_page"], meta["share_post"], *_why(failure, "api"))

    def parse_share_render(self, response: Response) -> Iterator[Any]:
        code, page = response.meta["share_code"], response.meta["share_page"]
        data = getattr(response, "data", None) or {}
        try:
            if not data.get("ok"):
                raise ShareError("render_no_article", str(data.get("reason") or "no article"))
            article = parse_share_page(data.get("html") or "", code)
        except ShareError as exc:
            self._failed(code, page, exc.reason, exc.detail)
            return
        yield self._shared(article, page, "render", response)

    def share_render_failed(self, failure: Failure) -> None:
        meta = failure.request.meta
        self._failed(meta["share_code"], meta["share_page"], *_why(failure, "render"))

    def _render(self, code: str, page: str, post: dict[str, Any], reason: str, detail: str) -> Iterator[Any]:
        self.crawler.stats.inc_value(f"finews/share/api_failed/{reason}")
        if not self.splash_url:
            self._failed(code, page, reason, f"{detail}; no SPLASH_URL to render the page")
            return
        yield SplashRequest(
            page, callback=self.parse_share_render, errback=self.share_render_failed, endpoint="execute",
            dont_filter=True, meta={"share_code": code, "share_page": page, "share_post": post},
            args={"lua_source": WAIT_FOR_ARTICLE, "timeout": self.splash_timeout, "max_wait": self.splash_wait,
                  "allowed_hosts": [urlsplit(page).hostname]},
        )

    def _shared(self, article: Article, page: str, path: str, response: Response) -> Article:
        self.crawler.stats.inc_value(f"finews/share/ok/{path}")
        post = response.meta["share_post"]
        article.capture = captured(response)
        article.title = article.title or post.get("title")
        article.published_at = article.published_at or post.get("published_at")
        article.share_url = page
        article.share_status = "ok"
        article.share_fetched_at = article.fetched_at = utc_now_iso()
        return article

    def _failed(self, code: str, page: str, reason: str, detail: str) -> None:
        """No article from the share page: counted, logged, and signalled (the archive marks the article)."""
        self.crawler.stats.inc_value(f"finews/share/failed/{reason}")
        self.logger.warning("share page of %s not read (%s): %s", code, reason, detail)
        failure = ShareFailure(info_code=code, reason=reason, detail=detail, url=page)
        self.crawler.signals.send_catch_log(signal=share_failed, failure=failure, spider=self)


def _why(failure: Failure, stage: str) -> tuple[str, str]:
    if failure.check(HttpError):
        return f"{stage}_http_{failure.value.response.status}", "HTTP error status"
    return f"{stage}_{type(failure.value).__name__}", failure.getErrorMessage()[:300]
