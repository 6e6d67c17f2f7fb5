"""Share pages for given info codes, or for every archived article whose share page is not read yet.

    scrapy crawl share -a codes=NW202204012331570959,NW202112082206672930
    scrapy crawl share -a codes_file=codes.txt        # one code a line, or one article a line as JSON
    scrapy crawl share -a codes_file=articles.jsonl   # (finews export's jsonl: info_code, share_url, title, …)
    scrapy crawl share -a missing=1 [-a limit=500]    # digests, failures, never tried
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar

import scrapy
from pymongo.errors import PyMongoError
from scrapy.exceptions import CloseSpider
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import threads

from finews.codes import canonical_info_code
from finews.spiders.sharing import ShareRequests
from finews.storage.archive import archive_for


class ShareSpider(ShareRequests, scrapy.Spider):
    name = "share"
    # Its output is one article a JSON answer (and a Splash request when the answer is none): Scrapy's
    # referer, URL-length, depth and meta-copy checks only cost it an output pass each for every answer.
    custom_settings: ClassVar[dict[str, Any]] = {"SPIDER_MIDDLEWARES": {
        "scrapy.spidermiddlewares.referer.RefererMiddleware": None,
        "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
        "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
        "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
    }}

    def __init__(self, codes: str | None = None, codes_file: str | None = None, missing: str | None = None,
                 limit: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run_arguments = {k: v for k, v in {"codes": codes, "codes_file": codes_file, "missing": missing,
                                                "limit": limit, **kwargs}.items() if v is not None}
        listed = [(c.strip(), None, {}) for c in (codes or "").split(",") if c.strip()]
        if codes_file:
            listed += [_target(line.strip()) for line in Path(codes_file).read_text(encoding="utf-8").splitlines()
                       if line.strip() and not line.startswith("#")]
        self.targets: list[tuple[str, str | None, dict[str, Any]]] = listed
        self.missing = (missing or "").strip().lower() in ("1", "true", "yes", "on")
        self.limit = int(limit or 0)
        if not self.targets and not self.missing:
            raise ValueError("give -a codes=…, -a codes_file=… or -a missing=1")

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> ShareSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.init_share(crawler.settings)
        spider.archive = archive_for(crawler)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        # The answer carries only the text: title and date come from the codes file or the archive.
        targets = self.targets
        if self.archive is not None and targets:
            codes = [canonical_info_code(code) for code, _, _ in targets]
            known = await self._from_archive(self.archive.share_targets, codes)
            targets = [target if target[2] else known.get(canonical_info_code(target[0]), target)
                       for target in targets]
        if self.missing:
            if self.archive is None:
                raise CloseSpider("-a missing=1 needs the archive (FINEWS_STORE)")
            found = await self._from_archive(self.archive.missing_share, self.limit)
            self.logger.info("%d archived article(s) without their share page", len(found))
            targets += found
        for code, link, post in targets:
            for request in self.share_requests(code, link, post):
                yield request

    async def _from_archive(self, query: Any, argument: Any) -> Any:
        try:
            return await maybe_deferred_to_future(threads.deferToThread(query, argument))
        except PyMongoError as exc:
            raise CloseSpider(f"archive not answering: {type(exc).__name__}") from exc


def _target(line: str) -> tuple[str, str | None, dict[str, Any]]:
    """A codes file line: an info code, or an article as JSON (its share link, title and date are used)."""
    if not line.startswith("{"):
        return line, None, {}
    try:
        article = json.loads(line)
    except ValueError as exc:
        raise ValueError(f"codes_file: not a JSON article: {line[:80]!r}") from exc
    post = {key: article[key] for key in ("title", "published_at") if article.get(key)}
    return str(article.get("info_code") or ""), article.get("share_url"), post
