"""``finews backup``: the whole archive (every collection, document and index) as Extended JSON lines."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any

from pymongo.errors import OperationFailure

from finews import outcome
from finews.arguments import ArgumentProblem
from finews.cli.common import archive
from finews.storage.backup import dump, open_backup
from finews.storage.changes import format_cursor, position


def add_parser(commands: Any) -> None:
    backup = commands.add_parser("backup", help="the whole archive as Extended JSON lines (finews restore reads it)")
    backup.add_argument("--out", type=Path, required=True, help="the file (gzip-compressed if it ends in .gz)")
    backup.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with archive("backup") as store:
        try:  # taken before the read: changes made during it follow from here (docs/schema.md)
            cursor: str | None = format_cursor(position(None, store.db))
        except OperationFailure:
            cursor = None
        written = args.out.with_name(args.out.name + ".part")
        lines = 0
        try:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            with open_backup(written, "w", named=args.out) as out:
                for line in dump(store.db, cursor):
                    out.write(line)
                    lines += 1
            written.replace(args.out)  # a backup cut short never looks finished
        except OSError as exc:
            with contextlib.suppress(OSError):
                written.unlink(missing_ok=True)
            raise ArgumentProblem(f"finews backup: cannot write {args.out}: {exc.strerror or exc}") from None
    print(f"{lines - 1} line(s) of {store.database_name} written to {args.out}; change feed cursor {cursor}",
          file=sys.stderr)
    return outcome.OK
