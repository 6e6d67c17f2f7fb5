"""``scrapy crawl`` that checks its arguments first and exits with the run's outcome (finews.outcome)."""

from __future__ import annotations

import argparse
import logging
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from finews import outcome
from finews.arguments import ArgumentProblem
from finews.crawling import QueueDown, checked_spider, crawl

logger = logging.getLogger(__name__)


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        """Scrapy's own run, through the public CrawlerProcess API, keeping the crawler to read its stats."""
        if len(args) < 1:
            raise UsageError
        if len(args) > 1:
            raise UsageError("running 'scrapy crawl' with more than one spider is not supported")
        assert self.crawler_process is not None
        try:
            spidercls = checked_spider(self.crawler_process, args[0], opts.spargs)
        except ArgumentProblem as exc:
            print(f"scrapy crawl: {exc}", file=sys.stderr)
            self.exitcode = outcome.USAGE
            return
        except QueueDown as exc:
            print(f"scrapy crawl: {exc}", file=sys.stderr)
            self.exitcode = outcome.STORAGE_DOWN
            return
        status, why, _ = crawl(self.crawler_process, spidercls, opts.spargs)
        self.exitcode = status
        if status:
            logger.error("Exit status %d: %s", status, why)
