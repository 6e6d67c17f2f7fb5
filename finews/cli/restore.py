"""``finews restore``: a backup into the configured archive (an empty database), indexes first."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from finews import outcome
from finews.arguments import ArgumentProblem
from finews.cli.common import archive
from finews.storage.backup import BackupError, load, open_backup


def add_parser(commands: Any) -> None:
    restore = commands.add_parser("restore", help="a finews backup into the configured archive, an empty database")
    restore.add_argument("backup", type=Path, help="a file finews backup wrote (.gz read as gzip)")
    restore.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not args.backup.is_file():
        raise ArgumentProblem(f"finews restore: {args.backup} is not a file")
    with archive("restore") as store, open_backup(args.backup, "r") as lines:
        try:
            counts = load(store.db, lines)
        except (BackupError, UnicodeDecodeError, OSError) as exc:
            raise ArgumentProblem(f"finews restore: {args.backup}: {exc}") from None
    summary = ", ".join(f"{name} {count}" for name, count in counts.items())
    print(f"restored into {store.database_name}: {summary}", file=sys.stderr)
    return outcome.OK
