"""The change feed of the archive: every change of an article, once, in commit order.

``updated_at`` is no feed: it is the writer's clock taken before its write, so a
document can commit after a reader has passed its stamp, and merges do not move
it. MongoDB's own feed is exact: a change stream reads the oplog, where every
write has a unique cluster time in commit order. A cursor here is the cluster
time of the last change read (``<seconds>.<increment>``); reading again from
it gives exactly the changes after it, however many writers there are. That
needs a replica set (a one-node set will do; the embedded store is one), and a
cursor is good as long as the server keeps its oplog (the embedded store keeps
FINEWS_CHANGES_DAYS).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from bson import Timestamp
from pymongo.errors import OperationFailure

logger = logging.getLogger(__name__)

# Fields every sighting moves: bookkeeping, not a change of the article.
BOOKKEEPING = frozenset({"seen_count", "last_seen_at", "sightings"})
_NOT_A_REPLICA_SET = (40573, 40415)  # "only supported on replica sets", and its older wording
_LAST_INCREMENT = 2**32 - 1


class FeedError(Exception):
    """The feed cannot be read as asked (one line for the operator)."""


def parse_cursor(text: str) -> Timestamp:
    seconds, _, increment = text.partition(".")
    try:
        return Timestamp(int(seconds), int(increment or 0))
    except (ValueError, TypeError, OverflowError):
        raise FeedError(f"not a cursor: {text!r} (a cursor is <seconds>.<increment>, as a feed line gives it)") \
            from None


def format_cursor(at: Timestamp) -> str:
    return f"{at.time}.{at.inc}"


def position(since: str | datetime | None, db: Any) -> Timestamp:
    """The last position already read: a cursor itself, the end of the second before a date, or now."""
    if isinstance(since, datetime):
        return Timestamp(int(since.timestamp()) - 1, _LAST_INCREMENT)
    if since:
        return parse_cursor(since)
    now = db.client.admin.command("hello").get("operationTime")
    return now or Timestamp(int(datetime.now().timestamp()), 0)


def _next(after: Timestamp) -> Timestamp:
    return Timestamp(after.time + 1, 0) if after.inc >= _LAST_INCREMENT else Timestamp(after.time, after.inc + 1)


def check_window(db: Any, start: Timestamp) -> None:
    """Refuse a start the server's oplog no longer reaches: reading on would silently skip what was pruned."""
    try:
        oldest = db.client.local["oplog.rs"].find_one({}, {"ts": 1}, sort=[("$natural", 1)])
    except OperationFailure:  # no right to read the oplog: the server itself refuses a lost start (code 286)
        return
    if oldest and start.time < oldest["ts"].time:
        first = datetime.fromtimestamp(oldest["ts"].time).astimezone().isoformat(timespec="seconds")
        raise FeedError(f"the server keeps changes from {first} on only: read the archive again in full, then "
                        "follow the feed from a cursor taken before that read (docs/schema.md)")


def changes(db: Any, since: str | datetime | None, limit: int) -> Iterator[dict[str, Any]]:
    """Changed articles after ``since``: one dict each (``_id``, ``op``, ``fields``, ``at``, ``cursor``), then a
    last ``{"cursor": …}`` to read on from. Sightings that changed nothing but bookkeeping are passed over."""
    after = position(since, db)
    start = _next(after)
    check_window(db, start)
    cursor = format_cursor(after)
    pipeline = [{"$match": {"operationType": {"$in": ["insert", "update", "replace", "delete"]}}}]
    count = 0
    try:
        with db.articles.watch(pipeline, start_at_operation_time=start, max_await_time_ms=200) as stream:
            while count < limit:
                event = stream.try_next()
                if event is None:
                    break
                cursor = format_cursor(event["clusterTime"])
                fields = _changed_fields(event)
                if event["operationType"] == "update" and fields <= BOOKKEEPING:
                    continue
                count += 1
                yield {"_id": event["documentKey"]["_id"], "op": event["operationType"],
                       "fields": sorted(fields - BOOKKEEPING), "at": event.get("wallTime"), "cursor": cursor}
    except OperationFailure as exc:
        if exc.code in _NOT_A_REPLICA_SET:
            raise FeedError("this MongoDB is a standalone server, which keeps no change feed: run it as a "
                            "replica set (one node will do; docs/schema.md)") from None
        raise
    yield {"cursor": cursor}


def _changed_fields(event: dict[str, Any]) -> set[str]:
    if event["operationType"] != "update":
        return set()
    description = event.get("updateDescription") or {}
    names = set(description.get("updatedFields") or {}) | set(description.get("removedFields") or [])
    return {name.split(".", 1)[0] for name in names}

