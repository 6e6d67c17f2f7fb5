"""``scrapy crawl`` that exits with the run's outcome (finews.outcome), not 0 after anything."""

from __future__ import annotations

import logging
from typing import Any

from scrapy.commands.crawl import Command as ScrapyCrawl

from finews.outcome import exit_status

logger = logging.getLogger(__name__)


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: Any) -> None:
        crawlers: list[Any] = []
        create = self.crawler_process.create_crawler

        def remember(*a: Any, **kw: Any) -> Any:
            crawler = create(*a, **kw)
            crawlers.append(crawler)
            return crawler

        self.crawler_process.create_crawler = remember
        super().run(args, opts)
        if self.exitcode or not crawlers:
            return
        status, why = exit_status(crawlers[0].stats.get_stats())
        self.exitcode = status
        if status:
            logger.error("Exit status %d: %s", status, why)
