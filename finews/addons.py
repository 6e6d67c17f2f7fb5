"""Scrapy add-ons of finews: settings that depend on other settings, applied once all are known."""

from __future__ import annotations

from typing import Any


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
        settings.set("SCHEDULER_QUEUE_KEY", "finews:%(spider)s:requests", priority="addon")
        settings.set("SCHEDULER_PERSIST", True, priority="addon")
        settings.set("SCHEDULER_FLUSH_ON_START", settings.getbool("FINEWS_REDIS_FLUSH_ON_START"), priority="addon")
