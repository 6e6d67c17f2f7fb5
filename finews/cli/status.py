"""``finews status``: recent runs with their exit statuses, the journal, lock holders, the shared queues."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import redis
from redis.exceptions import RedisError

from finews import outcome, redis_keys
from finews.cli.common import archive, iso, settings
from finews.lock import describe, holders
from finews.redact import redact
from finews.storage.archive import Archive
from finews.storage.journal import Journal, folder_for


def add_parser(commands: Any) -> None:
    status = commands.add_parser("status", help="recent runs, journal, lock holders")
    status.add_argument("--runs", type=int, default=10)
    status.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    found = settings()
    with archive("status") as store:
        runs = store.recent_runs(args.runs, found.getfloat("FINEWS_RUNS_KEEP_DAYS"))
    print(f"{'started (UTC+8)':25} {'spider':7} {'kind':11} {'status':8} {'exit':>4} {'items':>6} {'new':>5} "
          f"{'errors':>6} {'seconds':>8}")
    for record in runs:
        stats = record.get("stats") or {}
        code = record.get("exit_status")
        seconds = stats.get("elapsed_time_seconds")
        print(f"{iso(record.get('started_at')):25} {record.get('spider', ''):7} {record.get('kind') or '':11} "
              f"{record.get('status', ''):8} {'' if code is None else code:>4} "
              f"{stats.get('item_scraped_count', 0):>6} {stats.get('finews/articles/new', 0):>5} "
              f"{record.get('errors', 0):>6} {'' if seconds is None else f'{seconds:.1f}':>8}")
        if code:
            print(f"    exit {code}: {record.get('exit_reason') or outcome.MEANING.get(code, '')}")
        for failure in stats.get("finews/monitors/failures") or []:
            print(f"    monitor failed: {failure}")
    journal = Journal(folder_for(found), Archive.from_settings(found).target)
    others = "".join(f"; {count} for {target} (left in place)" for target, count in journal.foreign())
    print(f"journal: {journal.pending_segments()} segment(s) for this archive{others}")
    if found.get("FINEWS_REDIS_URL"):
        _redis_status(found.get("FINEWS_REDIS_URL"))
    locks = holders(Path(found.get("FINEWS_DATA_DIR")) / "locks")
    for name, holder, held in locks:
        print(f"lock {name}: {redact('held by ' + describe(holder)) if held else 'free'}")
    if not locks:
        print("no locks")
    return outcome.OK


def _redis_status(url: str) -> None:
    """The shared queues and crawl sessions in Redis: what a distributed crawl has left to do."""
    client = redis.Redis.from_url(url)
    try:
        for spider in ("finews", "share", "posts"):
            queued = client.zcard(redis_keys.queue_key(spider))
            session = client.get(redis_keys.session_key(spider))
            seen = client.scard(redis_keys.seen_prefix(spider) + session.decode()) if session else 0
            ttl = client.ttl(redis_keys.session_key(spider))
            state = f"session {session.decode()} (ttl {ttl} s)" if session else "idle"
            print(f"redis {spider}: {queued} request(s) queued, {seen} seen, {state}")
    except RedisError as exc:
        print(f"redis at {redact(url)}: does not answer ({type(exc).__name__})")
