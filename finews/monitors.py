"""Post-run monitors (Spidermon): a failing one shows in the log, in crawl_runs and in the exit status.

Thresholds are settings (docs/configuration.md). Errors are Spidermon's own
ErrorCountMonitor; finews adds the rejected share of inputs, the yield of a run
(items per input) against runs of the same spider and kind, the age of the newest
archived article, and item validation. A run with nothing to do (listings
unchanged or naming only known posts, no share page missing, an empty folder) has
no input: the yield monitor passes and says so, as it does when too few runs like
this one exist to compare with. Notes go to the log and ``finews/monitors/notes``.
"""

from __future__ import annotations

import logging
import statistics
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from pymongo.errors import PyMongoError
from spidermon import Monitor, MonitorSuite, monitors
from spidermon.contrib.scrapy.monitors.monitors import ErrorCountMonitor
from spidermon.core.actions import Action

from finews.storage.archive import archive_for

logger = logging.getLogger(__name__)
# The stat every spider keeps: what it was given or found to do (post pages, share pages, files).
INPUTS = "finews/inputs"


def _note(monitor: Monitor, text: str) -> None:
    logger.info("Monitor %s: %s", monitor.monitor_name, text)
    stats = monitor.data.crawler.stats
    stats.set_value("finews/monitors/notes", [*(stats.get_value("finews/monitors/notes") or []), text])


@monitors.name("finews")
class RunMonitor(Monitor):
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

    @monitors.name("yield")
    def test_items_per_input_like_runs_of_its_kind(self) -> None:
        settings = self.data.crawler.settings
        spider = self.data.spider
        kind = getattr(spider, "run_kind", None)
        inputs = self.data.stats.get(INPUTS, 0)
        if inputs == 0:
            _note(self, f"not judged: nothing to do in this {kind or ''} run (nothing new listed, nothing given)")
            return
        if inputs < settings.getint("FINEWS_MONITOR_MIN_INPUTS"):
            _note(self, f"not judged: {inputs} input(s), fewer than FINEWS_MONITOR_MIN_INPUTS")
            return
        archive = archive_for(self.data.crawler)
        if archive is None or archive.client is None:
            _note(self, "not judged: no archive to read earlier runs from")
            return
        try:
            runs = archive.comparable_runs(spider.name, kind, settings.getint("FINEWS_MONITOR_RECENT_RUNS"),
                                           settings.getfloat("FINEWS_RUNS_KEEP_DAYS"),
                                           {f"stats.{INPUTS}": 1, "stats.item_scraped_count": 1})
        except PyMongoError as exc:
            _note(self, f"not judged: crawl_runs not readable ({type(exc).__name__})")
            return
        if len(runs) < 3:
            _note(self, f"not judged: {len(runs)} earlier {spider.name} {kind} run(s) to compare with (3 needed)")
            return
        median = statistics.median(r["stats"].get("item_scraped_count", 0) / r["stats"][INPUTS] for r in runs)
        items = self.data.stats.get("item_scraped_count", 0)
        floor = settings.getfloat("FINEWS_MONITOR_MIN_ITEMS_RATIO") * median
        self.assertGreaterEqual(items / inputs, floor, f"{items} items from {inputs} inputs, far below the "
                                f"{median:.2f} items an input of recent {kind} runs")

    @monitors.name("freshness")
    def test_new_articles_keep_coming(self) -> None:
        settings = self.data.crawler.settings
        hours = settings.getfloat("FINEWS_MONITOR_MAX_SILENCE_HOURS")
        archive = archive_for(self.data.crawler)
        if hours <= 0 or archive is None or archive.client is None or self.data.spider.name != "finews":
            return
        since = datetime.now(UTC) - timedelta(hours=hours)
        try:
            # A range, not the newest of all: SecantusDB would examine every article for a sort with a limit.
            fresh = archive.articles.find_one({"first_seen_at": {"$gte": since}}, {"_id": 1})
            empty = fresh is None and archive.articles.find_one({}, {"_id": 1}) is None
        except PyMongoError as exc:
            logger.warning("freshness monitor skipped: archive not readable (%s)", type(exc).__name__)
            return
        if empty:
            return
        self.assertIsNotNone(fresh, f"no new article for over {hours:g} h")


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
    # Spidermon's ErrorCountMonitor reads SPIDERMON_MAX_ERRORS, which finews.addons.Limits sets from
    # FINEWS_MONITOR_MAX_ERRORS.
    monitors: ClassVar[list] = [ErrorCountMonitor, RunMonitor]
    monitors_failed_actions: ClassVar[list] = [RecordFailures]
