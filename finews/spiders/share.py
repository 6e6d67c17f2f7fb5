"""Share pages for given info codes, or for every archived article whose share page is not read yet.

    scrapy crawl share -a codes=NW202204012331570959,NW202112082206672930
    scrapy crawl share -a codes_file=codes.txt        # one code a line
    scrapy crawl share -a missing=1 [-a limit=500]    # digests, failures, never tried
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

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

    def __init__(self, codes: str | None = None, codes_file: str | None = None, missing: str | None = None,
                 limit: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run_arguments = {k: v for k, v in {"codes": codes, "codes_file": codes_file, "missing": missing,
                                                "limit": limit, **kwargs}.items() if v is not None}
        listed = [c.strip() for c in (codes or "").split(",") if c.strip()]
        if codes_file:
            listed += [line.strip() for line in Path(codes_file).read_text(encoding="utf-8").splitlines()
                       if line.strip() and not line.startswith("#")]
        self.codes = listed
        self.missing = (missing or "").strip().lower() in ("1", "true", "yes", "on")
        self.limit = int(limit or 0)
        if not self.codes and not self.missing:
            raise ValueError("give -a codes=…, -a codes_file=… or -a missing=1")

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> ShareSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.init_share(crawler.settings)
        spider.archive = archive_for(crawler)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        # The answer carries only the text: title and date come from the archive, for codes it has.
        targets: list[tuple[str, str | None, dict[str, Any]]] = [(code, None, {}) for code in self.codes]
        if self.archive is not None and self.codes:
            known = await self._from_archive(self.archive.share_targets, [canonical_info_code(c) for c in self.codes])
            targets = [known.get(canonical_info_code(code), (code, None, {})) for code in self.codes]
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
