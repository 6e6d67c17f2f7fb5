"""``finews reparse``: the archive re-derived from its raw captures with today's rules, with no network."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from finews import outcome
from finews.cli.common import archive, day, settings
from finews.cli.crawl import crawl_as_cron
from finews.normalize import normalize_article
from finews.parsing.capture import article_from_capture
from finews.storage.documents import CONTENT_FIELDS, planned_update, to_document
from finews.storage.warc import read_record

# What a reparse may change of the current text (the pointer and the rules' version change with any of them).
COMPARED = (*(f for f in CONTENT_FIELDS if f not in ("via", "capture", "parser_version")), "published_at")
EXAMPLES = 3
BATCH = 500
PLAIN_LINE_EVERY = 1000


def add_parser(commands: Any) -> None:
    reparse = commands.add_parser("reparse", help="re-derive archived articles from their raw captures (no network)")
    reparse.add_argument("--since", type=day, help="published from this day on (YYYY-MM-DD, UTC+8)")
    reparse.add_argument("--until", type=day, help="published up to this day, inclusive")
    reparse.add_argument("--category")
    reparse.add_argument("--dry-run", action="store_true",
                         help="change nothing: per field, how many articles would change, and a few of them")
    reparse.add_argument("-s", dest="settings", action="append", default=[], metavar="NAME=VALUE")
    reparse.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.dry_run:
        return dry_run(args)
    spider_args = [f"{name}={getattr(args, name).strftime('%Y-%m-%d')}" for name in ("since", "until")
                   if getattr(args, name)] + ([f"category={args.category}"] if args.category else [])
    status, stats = crawl_as_cron("reparse", spider_args, args.settings)
    if stats:
        rejected = sum(v for k, v in stats.items()
                       if k.startswith("finews/dropped/") and k != "finews/dropped/duplicate")
        counts = {name: stats.get(f"finews/articles/{name}", 0) for name in ("new", "unchanged", "merged", "revised")}
        print(f"reparse: new {counts['new']}, unchanged {counts['unchanged']}, "
              f"revised {counts['revised']} (merged {counts['merged']}), rejected {rejected}")
    return status


def dry_run(args: argparse.Namespace) -> int:
    found = settings(args.settings)
    folder = Path(found.get("FINEWS_DATA_DIR")) / "warc"
    site = found.get("FINEWS_BASE_URL")
    until = args.until + timedelta(days=1) if args.until else None
    changed: Counter = Counter()
    examples: dict[str, list[str]] = {}
    tally: Counter = Counter()
    started = time.monotonic()
    now = datetime.now(UTC)
    max_revisions = found.getint("FINEWS_MAX_REVISIONS")
    with archive("reparse") as store:
        targets = store.captured_articles(args.since, until, args.category)
        for number, target in enumerate(targets, start=1):
            if (number - 1) % BATCH == 0:  # the whole documents a batch at a time, not one query each
                codes = [t["_id"] for t in targets[number - 1:number - 1 + BATCH]]
                whole = {d["_id"]: d for d in store.articles.find({"_id": {"$in": codes}},
                                                                  {"revisions": 0, "sightings": 0})}
            current = whole.get(target["_id"])
            if current is None:  # gone since the list was read
                continue
            try:
                captured = read_record(folder, target["capture"])
                made = to_document(vars(normalize_article(
                    article_from_capture(target["via"], captured.uri, captured.body, current, site))))
            except (OSError, ValueError):
                tally["rejected"] += 1
                continue
            # What the merge rule would write, as the store would plan it (documents.plan_existing).
            _, planned = planned_update(current, made, now, max_revisions, full=False)
            written = planned[1].get("$set", {}) if planned is not None else {}
            fields = [f for f in COMPARED if f in written and _differs(written[f], current.get(f))]
            tally["would change" if fields else "unchanged"] += 1
            for field in fields:
                changed[field] += 1
                examples.setdefault(field, [])
                if len(examples[field]) < EXAMPLES:
                    examples[field].append(target["_id"])
            _progress(number, len(targets), started)
    print(f"reparse --dry-run: {len(targets)} article(s) with a capture: unchanged {tally['unchanged']}, "
          f"would change {tally['would change']}, rejected {tally['rejected']}")
    for field, count in changed.most_common():
        print(f"  {field}: {count} (e.g. {', '.join(examples[field])})")
    return outcome.OK


def _differs(made: Any, stored: Any) -> bool:
    if hasattr(made, "timestamp") and hasattr(stored, "timestamp"):
        return made.timestamp() != stored.timestamp()
    return made != stored


def _progress(done: int, total: int, started: float) -> None:
    """A redrawn line on a terminal; otherwise a plain line every PLAIN_LINE_EVERY articles."""
    rate = done / max(time.monotonic() - started, 1e-6)
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\x1b[K{done}/{total} articles  {rate:,.0f}/s" + ("\n" if done == total else ""))
        sys.stderr.flush()
    elif done % PLAIN_LINE_EVERY == 0 or done == total:
        print(f"reparse --dry-run: {done}/{total} articles, {rate:,.0f}/s", file=sys.stderr)
