"""Log drops by URL and reason, not by dumping the whole article into the log.

A crawled page and a scraped item are logged (at DEBUG, as Scrapy does) only when the run's
LOG_LEVEL shows DEBUG: Scrapy builds those records for every response and item whatever the
level, and an import or a share crawl spends a few percent of its time on records no handler keeps.
"""

from __future__ import annotations

import logging
from typing import Any

from itemadapter import ItemAdapter
from scrapy import logformatter
from scrapy.crawler import Crawler


class FinewsLogFormatter(logformatter.LogFormatter):
    def __init__(self, log_debug: bool = True) -> None:
        self.log_debug = log_debug

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FinewsLogFormatter:
        level = logging.getLevelName(crawler.settings.get("LOG_LEVEL") or "DEBUG")
        return cls(log_debug=not isinstance(level, int) or level <= logging.DEBUG)

    def crawled(self, request: Any, response: Any, spider: Any) -> dict | None:
        return super().crawled(request, response, spider) if self.log_debug else None

    def scraped(self, item: Any, response: Any, spider: Any) -> dict | None:
        return super().scraped(item, response, spider) if self.log_debug else None

    def dropped(self, item: Any, exception: BaseException, response: Any, spider: Any) -> dict:
        result = super().dropped(item, exception, response, spider)
        adapter = ItemAdapter(item) if ItemAdapter.is_item(item) else None
        result["msg"] = "Dropped %(url)s: %(exception)s"
        result["args"] = {"url": adapter.get("url") if adapter else None, "exception": exception}
        return result
