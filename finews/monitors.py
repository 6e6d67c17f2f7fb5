"""Post-run monitors (Spidermon): a failing one shows in the log, in crawl_runs and in the exit status.

Thresholds are settings (README): errors, rejected share of inputs, item count
against the median of the spider's recent runs (from crawl_runs), the age of
the newest archived article, and item validation against the item schema.
"""

from __future__ import annotations

import logging
import statistics
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pymongo.errors import PyMongoError
from spidermon import Monitor, MonitorSuite, monitors
from spidermon.core.actions import Action

from finews.storage.archive import archive_for

logger = logging.getLogger(__name__)


def _setting(monitor: Monitor, name: str) -> Any:
    return monitor.data.crawler.settings.get(name)


@monitors.name("finews")
class RunMonitor(Monitor):
    @monitors.name("errors")
    def test_errors_below_threshold(self) -> None:
        errors = self.data.stats.get("log_count/ERROR", 0)
        limit = self.data.crawler.settings.getint("FINEWS_MONITOR_MAX_ERRORS")
        self.assertLessEqual(errors, limit, f"{errors} errors logged (at most {limit})")

    @monitors.name("rejects")
    def test_rejected_share(self) -> None:
        stats = self.data.stats
        rejected = sum(v for k, v in stats.items()
                       if k.startswith("finews/dropped/") and k != "finews/dropped/duplicate")
        items = stats.get("item_scraped_count", 0)
        limit = self.data.crawler.settings.getfloat("FINEWS_MONITOR_MAX_REJECT_SHARE")
        share = rejected / (rejected + items) if rejected + items else 0.0
        self.assertLessEqual(share, limit, f"{rejected} of {rejected + items} inputs rejected (at most {limit:.0%})")

    @monitors.name("validation")
    def test_items_valid(self) -> None:
        invalid = self.data.stats.get("finews/dropped/invalid_item", 0)
        self.assertEqual(invalid, 0, f"{invalid} items broke the article contract (item.schema.json)")

    @monitors.name("item_count")
    def test_items_not_far_below_recent_runs(self) -> None:
        settings = self.data.crawler.settings
        archive = archive_for(self.data.crawler)
        if archive is None or archive.client is None:
            return
        spider = self.data.spider.name
        try:
            runs = list(archive.db.crawl_runs.find(
                {"spider": spider, "finish_reason": "finished", "stats.item_scraped_count": {"$exists": True}},
                {"stats.item_scraped_count": 1},
            ).sort("started_at", -1).limit(settings.getint("FINEWS_MONITOR_RECENT_RUNS")))
        except PyMongoError as exc:
            logger.warning("item_count monitor skipped: crawl_runs not readable (%s)", type(exc).__name__)
            return
        counts = [r["stats"]["item_scraped_count"] for r in runs]
        if len(counts) < 3:
            return
        median = statistics.median(counts)
        if median < settings.getint("FINEWS_MONITOR_MIN_MEDIAN"):
            return
        items = self.data.stats.get("item_scraped_count", 0)
        floor = settings.getfloat("FINEWS_MONITOR_MIN_ITEMS_RATIO") * median
        self.assertGreaterEqual(items, floor, f"{items} items, far below the median {median:g} of recent runs")

    @monitors.name("freshness")
    def test_new_articles_keep_coming(self) -> None:
        settings = self.data.crawler.settings
        hours = settings.getfloat("FINEWS_MONITOR_MAX_SILENCE_HOURS")
        archive = archive_for(self.data.crawler)
        if hours <= 0 or archive is None or archive.client is None or self.data.spider.name != "finews":
            return
        try:
            newest = archive.articles.find_one({}, {"first_seen_at": 1}, sort=[("first_seen_at", -1)])
        except PyMongoError as exc:
            logger.warning("freshness monitor skipped: archive not readable (%s)", type(exc).__name__)
            return
        if newest is None:
            return
        age = datetime.now(UTC) - newest["first_seen_at"]
        self.assertLessEqual(age, timedelta(hours=hours), f"no new article for {age} (at most {hours:g} h)")


class RecordFailures(Action):
    """Put the failed monitors into the stats: crawl_runs keeps them and the exit status reads them."""

    def run_action(self) -> None:
        failures = [f"{failed.item.name}: {(failed.reason or failed.error or '').strip().splitlines()[-1]}"
                    for failed in self.result.monitors_failed_results]
        stats = self.data.crawler.stats
        stats.set_value("finews/monitors/failed", len(failures))
        stats.set_value("finews/monitors/failures", failures)
        for failure in failures:
            logger.error("Monitor failed: %s", failure)


class CloseMonitors(MonitorSuite):
    monitors: ClassVar[list] = [RunMonitor]
    monitors_failed_actions: ClassVar[list] = [RecordFailures]
