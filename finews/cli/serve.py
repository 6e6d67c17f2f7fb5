"""``finews serve``: keep the embedded store up on a port for downstream jobs, until interrupted."""

from __future__ import annotations

import argparse
from typing import Any

from finews.cli.common import settings
from finews.storage.embedded import main as serve_embedded


def add_parser(commands: Any) -> None:
    serve = commands.add_parser("serve", help="serve the embedded store on a port for downstream jobs")
    serve.add_argument("--port", type=int, default=27017)
    serve.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    found = settings()
    return serve_embedded(["--data-dir", found.get("FINEWS_DATA_DIR"), "--port", str(args.port),
                           "--changes-days", str(found.getfloat("FINEWS_CHANGES_DAYS")),
                           "--changes-max-entries", str(found.getint("FINEWS_CHANGES_MAX_ENTRIES"))])
