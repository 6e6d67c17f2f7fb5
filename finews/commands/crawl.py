"""``scrapy crawl`` that exits with the run's outcome (finews.outcome), not 0 after anything."""

from __future__ import annotations

import argparse
import logging

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from finews.outcome import exit_status

logger = logging.getLogger(__name__)


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        """Scrapy's own run, through the public CrawlerProcess API, keeping the crawler to read its stats."""
        if len(args) < 1:
            raise UsageError
        if len(args) > 1:
            raise UsageError("running 'scrapy crawl' with more than one spider is not supported")
        assert self.crawler_process is not None
        crawler = self.crawler_process.create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
            return
        status, why = exit_status(crawler.stats.get_stats())
        self.exitcode = status
        if status:
            logger.error("Exit status %d: %s", status, why)
