"""``finews``: the operator's command line, thin over Scrapy and the archive; one module per command.

    finews crawl [SPIDER] [-a NAME=VALUE]... [-s NAME=VALUE]... [--distributed REDIS_URL]
                                                                   the cron entry: lock, log file, exit status
    finews status [--runs N]                                       recent runs, journal, lock holders
    finews stats [--days N]                                        articles per day, source, category; rejects
    finews rejects [list] [--reason R] [--limit N]                 rejected inputs
    finews rejects requeue [--reason R] [--limit N]                read them again
    finews export [--format jsonl|markdown] [--since D] [--until D] [--category C] [--out PATH]
    finews changes [--since CURSOR|DATE] [--limit N]               changed articles, for downstream jobs
    finews serve [--port P]                                        serve the embedded store to downstream jobs
    finews backup --out FILE                                       the whole archive, Extended JSON lines
    finews restore FILE                                            a backup into an empty database
    finews reparse [--since D] [--until D] [--category C] [--dry-run]
                                                                   articles re-derived from their raw captures

A mistake prints one line and exits 2; an archive (or a distributed run's Redis)
that does not answer, one line and 4; `finews crawl` exits with the run's outcome (finews/outcome.py).
"""

from __future__ import annotations

import os
import sys

from finews import outcome
from finews.arguments import ArgumentProblem
from finews.cli import backup, changes, crawl, export, rejects, reparse, restore, serve, stats, status
from finews.cli.common import Parser, StoreDown
from finews.crawling import QueueDown
from finews.redact import install_log_redaction

COMMANDS = (crawl, status, stats, rejects, export, changes, serve, backup, restore, reparse)


def build_parser() -> Parser:
    parser = Parser(prog="finews", description="finews: crawler and archiver of finews.withounder.com")
    commands = parser.add_subparsers(dest="command", parser_class=Parser)
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    # finews' own settings from any folder: outside the project Scrapy finds no scrapy.cfg and would give
    # its defaults (no FINEWS_BASE_URL). A SCRAPY_SETTINGS_MODULE the operator set wins.
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "finews.settings")
    install_log_redaction()
    prefix = "finews"
    try:
        args = build_parser().parse_args(argv)
        if not getattr(args, "command", None):
            names = ", ".join(command.__name__.rsplit(".", 1)[-1] for command in COMMANDS)
            raise ArgumentProblem(f"finews: give a command: {names}")
        prefix = f"finews {args.command}"
        return args.run(args)
    except ArgumentProblem as exc:
        line = str(exc).splitlines()[0]
        print(line if line.startswith("finews") else f"{prefix}: {line}", file=sys.stderr)
        return outcome.USAGE
    except StoreDown as exc:
        print(str(exc), file=sys.stderr)
        return outcome.STORAGE_DOWN
    except QueueDown as exc:
        print(f"{prefix}: {exc}", file=sys.stderr)
        return outcome.STORAGE_DOWN
    except BrokenPipeError:  # `finews stats | head`
        return outcome.OK
