"""The Redis key layout of a distributed crawl, in one place (the scheduler, the dupefilter, `finews status`).

    finews:<spider>:requests          the shared request queue (a sorted set; scrapy-redis' priority queue)
    finews:<spider>:session           the current crawl session's id (expires with the session)
    finews:<spider>:seen:<session>    that session's request fingerprints (a set; expires with it)
"""

from __future__ import annotations

PREFIX = "finews"
# scrapy-redis fills in %(spider)s itself (SCHEDULER_QUEUE_KEY).
QUEUE_KEY_TEMPLATE = PREFIX + ":%(spider)s:requests"


def queue_key(spider: str) -> str:
    return QUEUE_KEY_TEMPLATE % {"spider": spider}


def session_key(spider: str) -> str:
    return f"{PREFIX}:{spider}:session"


def seen_prefix(spider: str) -> str:
    return f"{PREFIX}:{spider}:seen:"
