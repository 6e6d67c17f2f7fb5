"""Make ``-s JOBDIR=…`` survive a SIGKILL, not only a clean stop.

Scrapy writes its disk queue's bookkeeping only when it closes: after a kill the
queue in JOBDIR reads as empty or broken, while ``requests.seen`` says the
listings were done, so a resumed crawl would end at once with posts missing.
This extension marks JOBDIR while a run uses it; a run that finds the mark left
behind moves that state aside and starts over. The archive makes starting over
cheap and safe: posts it has (or its journal holds) are not fetched again, and
its ``_id`` keeps every article once.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

logger = logging.getLogger(__name__)
MARK = "finews-running"
STATE = ("requests.queue", "requests.seen")


class JobdirGuard:
    def __init__(self, jobdir: Path) -> None:
        self.jobdir = jobdir

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JobdirGuard:
        jobdir = crawler.settings.get("JOBDIR")
        if not jobdir:
            raise NotConfigured
        guard = cls(Path(jobdir))
        guard.prepare()  # now: before the scheduler and the dupefilter read JOBDIR
        crawler.signals.connect(guard.spider_closed, signal=signals.spider_closed)
        return guard

    def prepare(self) -> None:
        self.jobdir.mkdir(parents=True, exist_ok=True)
        mark = self.jobdir / MARK
        if mark.exists():
            aside = self.jobdir / f"unclean-{int(time.time())}"
            aside.mkdir()
            for name in STATE:
                if (self.jobdir / name).exists():
                    os.replace(self.jobdir / name, aside / name)
            logger.warning(
                "The last run in %s did not stop cleanly (killed?): its queue cannot be trusted, so it was moved "
                "to %s and this run starts over; articles already archived are not fetched again",
                self.jobdir, aside,
            )
        mark.write_text(str(os.getpid()), encoding="utf-8")

    def spider_closed(self, spider: Any, reason: str) -> None:
        (self.jobdir / MARK).unlink(missing_ok=True)
