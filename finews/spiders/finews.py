"""The site crawl: home page, feed and category pages → post pages → articles."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from finews.dates import utc_now_iso
from finews.parsing.listing import feed_links, page_links
from finews.parsing.post_page import NotAPostPage, parse_post_page
from finews.parsing.urls import category_slug, category_url, post_path, same_site
from finews.rejects import item_rejected


class FinewsSpider(scrapy.Spider):
    """``scrapy crawl finews [-a base_url=URL] [-a categories=slug1,slug2] [-a feed=0]``."""

    name = "finews"

    def __init__(self, base_url: str | None = None, categories: str | None = None,
                 feed: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._arg_base_url = base_url
        self._arg_categories = categories
        self._arg_feed = feed
        self._categories_seen: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> FinewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        base = spider._arg_base_url or settings.get("FINEWS_BASE_URL")
        spider.base_url = base if base.endswith("/") else base + "/"
        spider.allowed_domains = [urlsplit(spider.base_url).hostname]
        listed = spider._arg_categories if spider._arg_categories is not None else settings.get("FINEWS_CATEGORIES")
        spider.categories = [c.strip() for c in (listed or "").split(",") if c.strip()]
        spider.follow_feed = (
            settings.getbool("FINEWS_FOLLOW_FEED") if spider._arg_feed is None
            else spider._arg_feed.strip().lower() not in ("0", "false", "no", "off", "")
        )
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self.seed_requests():
            yield request

    def seed_requests(self) -> Iterator[scrapy.Request]:
        if self.categories:
            # Restricted: a category page lists every post of its category.
            for slug in self.categories:
                yield self._listing(category_url(self.base_url, slug), slug)
            return
        yield self._listing(self.base_url, None)
        if self.follow_feed:
            yield scrapy.Request(urljoin(self.base_url, "feed.xml"), callback=self.parse_feed,
                                 errback=self.on_error)

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        hint = response.meta.get("category")
        yield from self._follow(page_links(response.body, response.url), hint)

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        yield from self._follow(feed_links(response.body, response.url), None)

    def parse_post(self, response: Response) -> Iterator[Any]:
        try:
            page = parse_post_page(response.text, response.url, response.meta.get("category"))
        except NotAPostPage as exc:
            self.reject("not_a_post_page", str(exc), response.url, response.text)
            return
        page.article.fetched_at = utc_now_iso()
        yield page.article
        # Posts link back to their category: that is how categories are discovered.
        for slug in page.category_links:
            yield from self._category(slug)

    def on_error(self, failure: Failure) -> None:
        request = failure.request
        if failure.check(HttpError) and request.meta.get("guess") and failure.value.response.status == 404:
            self.crawler.stats.inc_value("finews/category_guess_missing", spider=self)
            return
        if failure.check(HttpError):
            reason, detail = f"http_{failure.value.response.status}", "HTTP error status"
        else:
            reason, detail = "fetch_failed", f"{failure.type.__name__}: {failure.getErrorMessage()}"
        self.reject(reason, detail, request.url, None)

    def reject(self, reason: str, detail: str, url: str | None, raw: Any) -> None:
        self.crawler.signals.send_catch_log(
            signal=item_rejected, reason=reason, detail=detail, url=url, raw=raw, spider=self
        )

    def _follow(self, links: list[str], hint: str | None) -> Iterator[scrapy.Request]:
        for url in links:
            if not same_site(url, self.base_url):
                continue
            path = post_path(url)
            if path is not None:
                yield scrapy.Request(url, callback=self.parse_post, errback=self.on_error,
                                     meta={"category": hint})
                if len(path.categories) == 1:
                    # The permalink names the category (lower-cased): its page may exist.
                    yield from self._category(path.categories[0], guess=True)
                continue
            slug = category_slug(url)
            if slug:
                yield from self._category(slug)

    def _category(self, slug: str, guess: bool = False) -> Iterator[scrapy.Request]:
        """A category page, once per run; none beyond the listed ones when categories are restricted."""
        if self.categories or slug in self._categories_seen:
            return
        self._categories_seen.add(slug)
        yield self._listing(category_url(self.base_url, slug), slug, guess=guess)

    def _listing(self, url: str, slug: str | None, guess: bool = False) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse_listing, errback=self.on_error,
                              meta={"category": slug or category_slug(url), "guess": guess})
