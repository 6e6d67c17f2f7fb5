"""Log drops by URL and reason, not by dumping the whole article into the log."""

from __future__ import annotations

from typing import Any

from itemadapter import ItemAdapter
from scrapy import logformatter


class FinewsLogFormatter(logformatter.LogFormatter):
    def dropped(self, item: Any, exception: BaseException, response: Any, spider: Any) -> dict:
        result = super().dropped(item, exception, response, spider)
        adapter = ItemAdapter(item) if ItemAdapter.is_item(item) else None
        result["msg"] = "Dropped %(url)s: %(exception)s"
        result["args"] = {"url": adapter.get("url") if adapter else None, "exception": exception}
        return result
