"""``finews crawl``: a spider run as cron runs it, under its lock, into a rotating log, with an exit status."""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import sys
import time
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.utils.log import configure_logging

from finews import crawling, outcome
from finews.cli.common import pairs, settings
from finews.lock import LockHeld, RunLock
from finews.redact import redact

logger = logging.getLogger(__name__)
SUMMARY_STATS = ("finews/articles/new", "finews/articles/unchanged", "finews/articles/merged",
                 "finews/articles/revised", "item_scraped_count", "response_received_count")


def add_parser(commands: Any) -> None:
    crawl = commands.add_parser("crawl", help="run a spider as cron does")
    crawl.add_argument("spider", nargs="?", default="finews")
    crawl.add_argument("-a", dest="spider_args", action="append", default=[], metavar="NAME=VALUE")
    crawl.add_argument("-s", dest="settings", action="append", default=[], metavar="NAME=VALUE")
    crawl.add_argument("--distributed", metavar="REDIS_URL",
                       help="join (or start) the crawl shared through this Redis (same as -s FINEWS_REDIS_URL=…)")
    crawl.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.distributed:
        args.settings.append(f"FINEWS_REDIS_URL={args.distributed}")
    status, _stats = crawl_as_cron(args.spider, args.spider_args, args.settings)
    return status


def crawl_as_cron(spider: str, spider_args: list[str], overrides: list[str]) -> tuple[int, dict[str, Any]]:
    """Run a spider under its lock, logging to the rotating file; its exit status and stats (empty if locked)."""
    found = settings(overrides)
    found.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")  # the log goes where _log_to_file says
    given = pairs(spider_args, "-a")
    process = CrawlerProcess(found)
    spidercls = crawling.checked_spider(process, spider, given)  # a mistake: one line, nothing started
    command = redact(" ".join(["finews crawl", spider, *(f"-a {a}" for a in spider_args)]))
    log_file = _log_to_file(found)
    lock = RunLock(Path(found.get("FINEWS_DATA_DIR")) / "locks", spider)
    try:
        lock.acquire(command)
    except LockHeld as exc:
        logger.info("finews crawl %s: not started, %s", spider, exc)
        print(f"finews crawl {spider}: not started, {exc}", file=sys.stderr)
        return outcome.LOCKED, {}
    try:
        started = time.monotonic()
        status, why, stats = crawling.crawl(process, spidercls, given)
        counts = " ".join(f"{name.rsplit('/', 1)[-1]}={stats.get(name, 0)}" for name in SUMMARY_STATS)
        line = (f"finews crawl {spider}: exit {status} ({why}); {counts}; "
                f"{time.monotonic() - started:.1f}s; log {log_file}")
        logger.log(logging.ERROR if status else logging.INFO, "%s", line)
        print(line)
        return status, stats
    finally:
        lock.release()


def _log_to_file(found: Any) -> Path:
    """Scrapy's log into a rotating file; warnings and errors also on stderr (cron mails those)."""
    path = Path(found.get("FINEWS_LOG_FILE") or Path(found.get("FINEWS_OUTPUT_DIR")) / "finews.log")
    path.parent.mkdir(parents=True, exist_ok=True)
    configure_logging(found)
    formatter = logging.Formatter(found.get("LOG_FORMAT"), found.get("LOG_DATEFORMAT"))
    to_file = logging.handlers.RotatingFileHandler(path, maxBytes=found.getint("FINEWS_LOG_MAX_BYTES"),
                                                   backupCount=found.getint("FINEWS_LOG_BACKUPS"), encoding="utf-8")
    to_file.setLevel(found.get("LOG_LEVEL"))
    to_stderr = logging.StreamHandler(sys.stderr)
    to_stderr.setLevel(logging.WARNING)
    root = logging.getLogger()
    root.setLevel(logging.DEBUG)
    for handler in (to_file, to_stderr):
        handler.setFormatter(formatter)
        root.addHandler(handler)
    return path
