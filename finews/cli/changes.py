"""``finews changes``: articles changed after a cursor or a date, one JSON line each, then the cursor to go on from."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any

from finews import outcome
from finews.cli.common import archive, iso
from finews.dates import parse_post_date
from finews.storage.changes import FeedError, changes, parse_cursor


def add_parser(commands: Any) -> None:
    feed = commands.add_parser("changes", help="articles changed after a cursor or a date: one JSON line each, "
                               "then the cursor to read on from")
    feed.add_argument("--since", type=_since, metavar="CURSOR|DATE",
                      help="the cursor of the last line read before, or a date (YYYY-MM-DD[ HH:MM[:SS]], UTC+8); "
                           "default: now")
    feed.add_argument("--limit", type=int, default=10_000, help="at most this many changes (default 10000)")
    feed.set_defaults(run=run)


def _since(text: str) -> str | datetime:
    """A cursor (``<seconds>.<increment>``) as it is, a date as a moment."""
    if "-" not in text:
        try:
            parse_cursor(text)  # refused here, before anything connects
        except FeedError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return text
    moment = parse_post_date(text)
    if moment is None:
        raise argparse.ArgumentTypeError(f"neither a cursor nor a date: {text!r}")
    return moment


def run(args: argparse.Namespace) -> int:
    with archive("changes") as store:
        try:
            for line in changes(store.db, args.since, args.limit):
                print(json.dumps(line, ensure_ascii=False, default=iso), flush=True)
        except FeedError as exc:
            print(f"finews changes: {exc}", file=sys.stderr)
            return outcome.USAGE
    return outcome.OK
