"""What finews' spiders shim for Spidermon on the current Scrapy.

Spidermon 1.27 (its newest release) writes its monitor results through
``Spider.log()`` (``spidermon/contrib/scrapy/runners.py``), which Scrapy 2.19
deprecates (scrapy/scrapy#7739, "Deprecate Spider.log()"). Every run then printed a
``py.warnings`` WARNING with the ScrapyDeprecationWarning to stderr, and cron mails
whatever reaches stderr: a false alarm on every run. finews' spiders answer
``log()`` themselves, through ``Spider.logger`` as Scrapy advises, so nothing is
filtered away. Remove this once a Spidermon release logs through ``Spider.logger``.
Fails without it: tests/test_cron.py::test_a_good_run_writes_nothing_to_stderr.
"""

from __future__ import annotations

import logging
from typing import Any

import scrapy


class Spider(scrapy.Spider):
    def log(self, message: Any, level: int = logging.DEBUG, **kw: Any) -> None:
        self.logger.log(level, message, **kw)
