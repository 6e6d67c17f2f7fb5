"""``finews rejects``: list rejected inputs, or read them again where they came from.

A requeue reads each input where it was first read: a share page by its code, a
post page by its URL, a local post source from its file (``file://``; no network).
The original reject stays listed until its retry succeeds; a retry that fails
again adds a count to it instead of a second reject.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from finews import outcome
from finews.cli.common import archive, iso


def add_parser(commands: Any) -> None:
    rejects = commands.add_parser("rejects", help="list or re-queue rejected inputs")
    rejects.add_argument("action", nargs="?", default="list", choices=["list", "requeue"])
    rejects.add_argument("--reason")
    rejects.add_argument("--limit", type=int, default=50)
    rejects.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    query: dict[str, Any] = {"reason": args.reason} if args.reason else {}
    with archive("rejects") as store:
        found = list(store.db.rejects.find({**query, "requeued_at": {"$exists": False}})
                     .sort("time", -1).limit(args.limit))
        if args.action == "list":
            for reject in found:
                retries = f" (retried {reject['retries']}x)" if reject.get("retries") else ""
                print(f"{iso(reject.get('time'))}  {reject.get('spider', ''):7} {reject.get('reason', ''):24} "
                      f"{reject.get('url') or ''}  {str(reject.get('detail') or '')[:80]}{retries}")
            print(f"{len(found)} reject(s)")
            return outcome.OK
        plans = requeue_plans(found)
        status = outcome.OK
        for spider, arguments, originals in plans:
            print(f"re-queueing {len(originals)} reject(s) with: finews crawl {spider} {' '.join(arguments)}")
            started = datetime.now(UTC)
            code = subprocess.run([sys.executable, "-m", "finews.cli", "crawl", spider, *arguments],
                                  check=False).returncode
            status = status or code
            _settle(store.db.rejects, spider, originals, started, code)
        if not plans:
            print("nothing to re-queue")
        return status


def _key(reject: dict[str, Any]) -> str | None:
    """What identifies a reject's input: a share page's info code, else the URL it was read from."""
    raw = reject.get("raw") if isinstance(reject.get("raw"), dict) else {}
    if str(reject.get("reason", "")).startswith("share_") and raw.get("info_code"):
        return raw["info_code"]
    return reject.get("url")


def _settle(rejects: Any, spider: str, originals: dict[str, Any], started: datetime, code: int) -> None:
    """Close the rejects whose input went through; keep the others, counting the retry, without a second record."""
    again = {_key(r): r["_id"] for r in rejects.find({"spider": spider, "time": {"$gte": started}})}
    now = datetime.now(UTC)
    for key, original in originals.items():
        if code == outcome.OK and key not in again:
            rejects.update_one({"_id": original}, {"$set": {"requeued_at": now, "requeue_exit": code}})
            continue
        rejects.update_one({"_id": original}, {"$inc": {"retries": 1},
                                               "$set": {"last_retry_at": now, "last_retry_exit": code}})
        if key in again:
            rejects.delete_one({"_id": again[key]})


def requeue_plans(rejects: list[dict[str, Any]]) -> list[tuple[str, list[str], dict[str, Any]]]:
    """Which crawl reads each reject's input again: (spider, its arguments, {input key: reject id})."""
    codes: dict[str, Any] = {}
    urls: dict[str, dict[str, Any]] = {"finews": {}, "posts": {}}
    for reject in rejects:
        key = _key(reject)
        if key and key != reject.get("url"):
            codes[key] = reject["_id"]
        elif key and reject.get("spider") in urls:
            urls[reject["spider"]][key] = reject["_id"]
    plans: list[tuple[str, list[str], dict[str, Any]]] = []
    folder = Path(tempfile.mkdtemp(prefix="finews-requeue-"))
    if codes:
        plans.append(("share", ["-a", f"codes={','.join(codes)}"], codes))
    for spider, found in urls.items():
        if found:
            listing = folder / f"{spider}.txt"
            listing.write_text("\n".join(found), encoding="utf-8")
            plans.append((spider, ["-a", f"urls_file={listing}"], found))
    return plans
