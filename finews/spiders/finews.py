"""The site crawl: home page, feed and category pages → post pages → articles.

Incremental by default: a post whose info code (in its permalink) the archive
has is not requested, and listing pages are asked for with the validators the
last finished run saw (an unchanged listing costs one 304). ``-a refresh=1``
fetches everything.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import scrapy
from pymongo.errors import PyMongoError
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import threads
from twisted.python.failure import Failure

from finews.arguments import Argument, parse_arguments
from finews.codes import canonical_info_code
from finews.dates import utc_now_iso
from finews.middlewares.capture import captured
from finews.monitors import INPUTS
from finews.parsing.listing import feed_links, page_links
from finews.parsing.post_page import NotAPostPage, parse_post_page
from finews.parsing.urls import category_slug, category_url, post_path, same_site, share_info_code
from finews.signals import item_rejected
from finews.spiders.compat import Spider
from finews.spiders.sharing import ShareRequests
from finews.storage.archive import Archive, archive_for


class FinewsSpider(ShareRequests, Spider):
    """``scrapy crawl finews [-a base_url=URL] [-a categories=a,b] [-a feed=0] [-a refresh=1] [-a share=0]``."""

    name = "finews"
    arguments: ClassVar[dict[str, Argument]] = {
        "base_url": Argument("url", "the site (default FINEWS_BASE_URL)"),
        "categories": Argument("text", "comma-separated category slugs: crawl only these"),
        "feed": Argument("bool", "read /feed.xml too (default FINEWS_FOLLOW_FEED)"),
        "refresh": Argument("bool", "fetch what the archive has too (default FINEWS_REFRESH)"),
        "share": Argument("bool", "follow share links (default FINEWS_SHARE)"),
        "urls_file": Argument("file", "post page URLs to fetch, one a line (finews rejects requeue)"),
    }

    def __init__(self, **kwargs: Any) -> None:
        self.run_arguments = parse_arguments(self.name, self.arguments, kwargs)
        super().__init__()
        # Post pages to fetch as they are (`finews rejects requeue`), instead of crawling the listings.
        self.urls_file = self.run_arguments.get("urls_file")
        self._categories_seen: set[str] = set()
        self._posts_asked: set[str] = set()
        self._validators: dict[str, dict] = {}
        self._seen_validators: dict[str, dict] = {}
        # Info codes of the posts each listing fetched in full named: its validators are kept only if
        # the archive has them all at the end (another worker may have died holding some of them).
        self._listed_codes: dict[str, set[str]] = {}

    @property
    def run_kind(self) -> str:
        """What kind of run this is, for monitors that compare a run with runs like it."""
        if self.urls_file:
            return "requeue"
        if self.refresh:
            return "refresh"
        return "restricted" if self.categories else "incremental"

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> FinewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings, arguments = crawler.settings, spider.run_arguments
        base = arguments.get("base_url") or settings.get("FINEWS_BASE_URL")
        spider.base_url = base if base.endswith("/") else base + "/"
        spider.allowed_domains = [urlsplit(spider.base_url).hostname]
        listed = arguments.get("categories", settings.get("FINEWS_CATEGORIES"))
        spider.categories = [c.strip() for c in (listed or "").split(",") if c.strip()]
        spider.follow_feed = arguments.get("feed", settings.getbool("FINEWS_FOLLOW_FEED"))
        spider.refresh = arguments.get("refresh", settings.getbool("FINEWS_REFRESH"))
        spider.seed_category_days = settings.getfloat("FINEWS_SEED_CATEGORY_DAYS")
        spider.follow_share = arguments.get("share", settings.getbool("FINEWS_SHARE"))
        spider.init_share(settings)
        spider.archive = archive_for(crawler)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        known_categories: list[str] = []
        if self.archive is not None:
            if not self.refresh:
                self._validators = await self._ask(Archive.listing_validators, default={})
            if self.seed_category_days > 0:
                known_categories = await self._ask(Archive.recent_categories, self.seed_category_days, default=[])
        for request in self.seed_requests():
            yield request
        if self.urls_file:
            return
        # Categories the archive knows: their pages may list posts the site links nowhere else
        # (a post we have is not fetched again, so its back link to its category is not seen).
        for slug in known_categories:
            for request in self._category(slug, guess=True):
                yield request

    def seed_requests(self) -> Iterator[scrapy.Request]:
        if self.urls_file:
            for line in Path(self.urls_file).read_text(encoding="utf-8").splitlines():
                if line.strip():
                    self.crawler.stats.inc_value(INPUTS)
                    yield scrapy.Request(line.strip(), callback=self.parse_post, errback=self.on_error,
                                         dont_filter=True, meta={"category": None})
            return
        if self.categories:
            # Restricted: a category page lists every post of its category.
            for slug in self.categories:
                yield self._listing(category_url(self.base_url, slug), slug)
            return
        yield self._listing(self.base_url, None)
        if self.follow_feed:
            yield self._listing(urljoin(self.base_url, "feed.xml"), None, callback=self.parse_feed)

    async def parse_listing(self, response: Response) -> AsyncIterator[scrapy.Request]:
        if self._not_modified(response):
            return
        links = page_links(response.body, response.url)
        for request in await self._unknown_posts(links, response.meta["category"], listing=response.url):
            yield request

    async def parse_feed(self, response: Response) -> AsyncIterator[scrapy.Request]:
        if self._not_modified(response):
            return
        for request in await self._unknown_posts(feed_links(response.body, response.url), None, listing=response.url):
            yield request

    def parse_post(self, response: Response) -> Iterator[Any]:
        try:
            page = parse_post_page(response.text, response.url, response.meta.get("category"))
        except NotAPostPage as exc:
            self.reject("not_a_post_page", str(exc), response.url, response.text)
            return
        page.article.fetched_at = utc_now_iso()
        page.article.capture = captured(response)
        yield page.article
        if self.follow_share and page.share_link:
            post = {"title": page.article.title, "published_at": page.article.published_at}
            yield from self.share_requests(share_info_code(page.share_link), page.share_link, post)
        # Posts link back to their category: that is how categories are discovered.
        for slug in page.category_links:
            yield from self._category(slug)

    def on_error(self, failure: Failure) -> None:
        request = failure.request
        if failure.check(HttpError) and request.meta.get("guess") and failure.value.response.status == 404:
            self.crawler.stats.inc_value("finews/category_guess_missing")
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

    async def closed(self, reason: str) -> None:
        """Keep the listings' validators, but only after a clean run: a failed one must see them again."""
        stats = self.crawler.stats
        clean = reason == "finished" and not any(
            stats.get_value(key) for key in ("finews/dropped/fetch_failed", "finews/store/write_failed")
        ) and not any(k.startswith("finews/dropped/http_") for k in stats.get_stats())
        if clean and self._seen_validators and self.archive is not None:
            validators = await self._complete_listings(self._seen_validators)
            await self._ask(Archive.save_listing_validators, validators, default=None)

    async def _complete_listings(self, validators: dict[str, dict]) -> dict[str, dict]:
        """The validators of the listings whose posts the archive has, all of them.

        A listing that answers 304 next time hides its posts; one that still lists a post the
        archive lacks (fetched by a worker that died before storing it, say) must be read again.
        """
        listed = {code for url in validators for code in self._listed_codes.get(url, ())}
        known = await self._ask(Archive.known_codes, sorted(listed), default=None) if listed else set()
        if known is None:
            return {}
        complete = {url: v for url, v in validators.items() if self._listed_codes.get(url, set()) <= known}
        if len(complete) < len(validators):
            self.crawler.stats.set_value("finews/listing/validators_withheld", len(validators) - len(complete))
            self.logger.warning("%d listing(s) still name posts the archive lacks: read in full next run",
                                len(validators) - len(complete))
        return complete

    async def _unknown_posts(self, links: list[str], hint: str | None, listing: str) -> list[scrapy.Request]:
        """Requests for the posts among the links, without those the archive has (unless refreshing)."""
        posts = {url: post_path(url) for url in links if same_site(url, self.base_url)}
        codes = {url: canonical_info_code(path.name) for url, path in posts.items() if path is not None}
        listed = {code for code in codes.values() if code}
        if self.archive is not None:
            self._listed_codes[listing] = listed
        known: set[str] = set()
        if self.archive is not None and not self.refresh and listed:
            known = await self._ask(Archive.known_codes, sorted(listed), default=set())
        requests: list[scrapy.Request] = []
        for url, path in posts.items():
            if path is None:
                slug = category_slug(url)
                if slug:
                    requests.extend(self._category(slug))
                continue
            if len(path.categories) == 1:
                # The permalink names the category (lower-cased): its page may exist.
                requests.extend(self._category(path.categories[0], guess=True))
            if codes.get(url) in known:
                self.crawler.stats.inc_value("finews/skipped/known")
                continue
            requests.append(scrapy.Request(url, callback=self.parse_post, errback=self.on_error,
                                           meta={"category": hint}))
            if url not in self._posts_asked:  # the monitors' evidence of something new (finews.monitors.INPUTS)
                self._posts_asked.add(url)
                self.crawler.stats.inc_value(INPUTS)
        return requests

    def _category(self, slug: str, guess: bool = False) -> Iterator[scrapy.Request]:
        """A category page, once per run; none beyond the listed ones when categories are restricted."""
        if self.categories or slug in self._categories_seen:
            return
        self._categories_seen.add(slug)
        yield self._listing(category_url(self.base_url, slug), slug, guess=guess)

    def _listing(self, url: str, slug: str | None, guess: bool = False, callback: Any = None) -> scrapy.Request:
        headers = {}
        known = self._validators.get(url, {})
        if known.get("etag"):
            headers["If-None-Match"] = known["etag"]
        if known.get("last_modified"):
            headers["If-Modified-Since"] = known["last_modified"]
        # Listings are read again every run (once per run and worker: the spider remembers its categories);
        # a fingerprint kept by a persistent or shared scheduler must not stop that.
        return scrapy.Request(url, callback=callback or self.parse_listing, errback=self.on_error, headers=headers,
                              dont_filter=True, meta={"category": slug or category_slug(url), "guess": guess,
                                                      "handle_httpstatus_list": [304]})

    def _not_modified(self, response: Response) -> bool:
        """Note the listing's validators; True when it did not change since the last finished run."""
        if response.status == 304:
            self.crawler.stats.inc_value("finews/listing/not_modified")
            self._seen_validators[response.url] = self._validators.get(response.url, {})
            return True
        etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
        if etag or modified:
            self._seen_validators[response.url] = {
                "etag": etag.decode("latin-1") if etag else None,
                "last_modified": modified.decode("latin-1") if modified else None,
            }
        return False

    async def _ask(self, method: Any, *args: Any, default: Any) -> Any:
        """Call an Archive method in a worker thread; a database that does not answer gives ``default``."""
        try:
            return await maybe_deferred_to_future(threads.deferToThread(method, self.archive, *args))
        except PyMongoError as exc:
            self.logger.warning("archive not answering (%s): crawling without it", type(exc).__name__)
            return default
