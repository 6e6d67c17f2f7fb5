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

from finews.arguments import Argument, ArgumentProblem, parse_arguments
from finews.codes import canonical_info_code
from finews.monitors import INPUTS
from finews.signals import item_rejected
from finews.spiders.compat import Spider
from finews.spiders.sharing import ShareRequests
from finews.storage.archive import archive_for


class ShareSpider(ShareRequests, Spider):
    name = "share"
    # Its output is one article a JSON answer (and a Splash request when the answer is none): Scrapy's
    # referer, URL-length, depth and meta-copy checks only cost it an output pass each for every answer.
    custom_settings: ClassVar[dict[str, Any]] = {"SPIDER_MIDDLEWARES": {
        "scrapy.spidermiddlewares.referer.RefererMiddleware": None,
        "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
        "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
        "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
    }}

    arguments: ClassVar[dict[str, Argument]] = {
        "codes": Argument("text", "comma-separated info codes"),
        "codes_file": Argument("file", "one info code a line, or one article a line as JSON (finews export)"),
        "missing": Argument("bool", "every archived article whose share page is not read yet"),
        "limit": Argument("int", "with missing=1: at most this many (0: all)"),
    }

    def __init__(self, **kwargs: Any) -> None:
        self.run_arguments = parse_arguments(self.name, self.arguments, kwargs)
        super().__init__()
        given = self.run_arguments
        self.targets: list[tuple[str, str | None, dict[str, Any]]] = [
            (c.strip(), None, {}) for c in given.get("codes", "").split(",") if c.strip()]
        # Lines of the codes file that are neither a code nor a JSON article: rejects, once the run is up.
        self.bad_lines: list[str] = []
        if given.get("codes_file"):
            for line in Path(given["codes_file"]).read_text(encoding="utf-8", errors="replace").splitlines():
                if line.strip() and not line.startswith("#"):
                    target = _target(line.strip())
                    self.targets.append(target) if target else self.bad_lines.append(line.strip())
        self.missing = given.get("missing", False)
        self.limit = given.get("limit", 0)
        if not given.get("codes") and not given.get("codes_file") and not self.missing:
            raise ArgumentProblem("spider 'share': give -a codes=…, -a codes_file=… or -a missing=1")

    @property
    def run_kind(self) -> str:
        return "missing" if self.missing else "codes"

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> ShareSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.init_share(crawler.settings)
        spider.archive = archive_for(crawler)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for line in self.bad_lines:
            self.crawler.stats.inc_value("finews/share/bad_codes_line")
            self.logger.warning("codes_file: not an info code nor a JSON article: %.80r", line)
            self.crawler.signals.send_catch_log(signal=item_rejected, reason="bad_codes_line",
                                                detail="neither an info code nor a JSON article",
                                                url=self.run_arguments.get("codes_file"), raw=line, spider=self)
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
        self.crawler.stats.set_value(INPUTS, len(targets))
        for code, link, post in targets:
            for request in self.share_requests(code, link, post):
                yield request

    async def _from_archive(self, query: Any, argument: Any) -> Any:
        try:
            return await maybe_deferred_to_future(threads.deferToThread(query, argument))
        except PyMongoError as exc:
            raise CloseSpider(f"archive not answering: {type(exc).__name__}") from exc


def _target(line: str) -> tuple[str, str | None, dict[str, Any]] | None:
    """A codes file line: an info code, or an article as JSON (its share link, title and date are used)."""
    if not line.startswith("{"):
        return (line, None, {}) if canonical_info_code(line) else None
    try:
        article = json.loads(line)
    except ValueError:
        return None
    if not isinstance(article, dict) or not article.get("info_code"):
        return None
    post = {key: article[key] for key in ("title", "published_at") if article.get(key)}
    return str(article["info_code"]), article.get("share_url"), post
