"""Pipeline step 2: an article without a key, a title or a date goes to the rejects."""

from __future__ import annotations

import re
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler

from finews.codes import canonical_info_code
from finews.items import Article
from finews.rejects import Rejected

_ISO_CST = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$")


class ValidatePipeline:
    def __init__(self, max_body_chars: int) -> None:
        self.max_body_chars = max_body_chars

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        return cls(max_body_chars=crawler.settings.getint("FINEWS_MAX_BODY_CHARS"))

    def process_item(self, item: Any, spider: Any) -> Any:
        if not isinstance(item, Article):
            return item
        adapter = ItemAdapter(item)
        code = adapter.get("info_code")
        if not code:
            raise Rejected("missing_info_code", "no share link, article link or id-like post name")
        if canonical_info_code(code) != code:
            raise Rejected("bad_info_code", repr(code))
        if not adapter.get("title"):
            raise Rejected("missing_title", code)
        published_at = adapter.get("published_at")
        if not published_at:
            raise Rejected("missing_date", code)
        if not _ISO_CST.match(published_at):
            raise Rejected("bad_date", f"{code}: {published_at!r}")
        size = len(adapter.get("body_html") or "")
        if size > self.max_body_chars:
            raise Rejected("body_too_large", f"{code}: {size} > {self.max_body_chars} characters")
        return item
