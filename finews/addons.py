"""Scrapy add-ons of finews: settings that depend on other settings, applied once all are known."""

from __future__ import annotations

from typing import Any

from finews.redis_keys import QUEUE_KEY_TEMPLATE


class Limits:
    """finews' limits under the names Scrapy and Spidermon read, from ``-s`` as from the environment.

    A run never hangs: ``FINEWS_TIME_LIMIT`` and ``FINEWS_IDLE_LIMIT`` (seconds without an item) become
    Scrapy's close conditions (a ``CLOSESPIDER_*`` given itself wins); ``FINEWS_MONITOR_MAX_ERRORS`` becomes
    ``SPIDERMON_MAX_ERRORS``.
    """

    def update_settings(self, settings: Any) -> None:
        settings.set("CLOSESPIDER_TIMEOUT", settings.getfloat("FINEWS_TIME_LIMIT"), priority="addon")
        settings.set("CLOSESPIDER_TIMEOUT_NO_ITEM", int(settings.getfloat("FINEWS_IDLE_LIMIT")), priority="addon")
        # Spidermon's own error monitor (finews.monitors) takes its limit under its own name.
        settings.set("SPIDERMON_MAX_ERRORS", settings.getint("FINEWS_MONITOR_MAX_ERRORS"), priority="addon")


class Distributed:
    """With ``FINEWS_REDIS_URL`` set, every spider schedules through Redis (scrapy-redis).

    The queue and the seen-request fingerprints live in Redis, so workers on several
    machines started with the same settings share one crawl. The queue is kept when a
    worker closes (others may still use it); fingerprints belong to one crawl session
    and expire with it (finews.dupefilters), so Redis memory stays bounded over months.
    Unset, the single-process scheduler is used as ever.
    """

    def update_settings(self, settings: Any) -> None:
        url = settings.get("FINEWS_REDIS_URL")
        if not url:
            return
        settings.set("REDIS_URL", url, priority="addon")
        settings.set("SCHEDULER", "finews.scheduler.SharedScheduler", priority="addon")
        settings.set("SCHEDULER_DUPEFILTER_CLASS", "finews.dupefilters.SessionDupeFilter", priority="addon")
        settings.set("DUPEFILTER_CLASS", "finews.dupefilters.SessionDupeFilter", priority="addon")
        settings.set("SCHEDULER_QUEUE_KEY", QUEUE_KEY_TEMPLATE, priority="addon")
        settings.set("SCHEDULER_PERSIST", True, priority="addon")
        settings.set("SCHEDULER_FLUSH_ON_START", settings.getbool("FINEWS_REDIS_FLUSH_ON_START"), priority="addon")
