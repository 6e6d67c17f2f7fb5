"""``finews serve``: the one reader endpoint of the embedded store, on its own port, until interrupted.

It joins the store's server like a run (starting it on its port if none serves the folder), so
the server outlives every crawl while serve runs, and crawls started meanwhile use the same one.
If a crawl had already started the server on another port, serve relays its port to that one.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import socket
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from finews import outcome
from finews.arguments import ArgumentProblem
from finews.cli.common import StoreDown, settings
from finews.storage.embedded import EmbeddedServer, EmbeddedServerError
from finews.storage.forwarder import forward
from finews.storage.keeper import answers

logger = logging.getLogger(__name__)

DEFAULT_PORT = 27017  # MongoDB's own: readers' default URI (docs/schema.md)
_WATCH_SECONDS = 1.0


def add_parser(commands: Any) -> None:
    serve = commands.add_parser("serve", help="serve the embedded store on a port for downstream jobs")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    serve.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    found = settings()
    if found.get("MONGO_URI"):
        raise ArgumentProblem("finews serve: MONGO_URI is set: readers use that server; serve is for the embedded one")
    if not 0 < args.port < 65536:
        raise ArgumentProblem(f"finews serve: --port {args.port} is not a port")
    if _taken(args.port):
        raise ArgumentProblem(f"finews serve: port {args.port} is in use (another finews serve, or another server)")
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    server = EmbeddedServer(Path(found.get("FINEWS_DATA_DIR")) / "mongo", port=args.port,
                            binary=found.get("FINEWS_EMBEDDED_BIN") or None,
                            changes_days=found.getfloat("FINEWS_CHANGES_DAYS"),
                            changes_max_entries=found.getint("FINEWS_CHANGES_MAX_ENTRIES"))
    try:
        uri = server.start()
    except EmbeddedServerError as exc:
        raise StoreDown(f"finews serve: the embedded store did not start ({exc})") from None
    try:
        return asyncio.run(_serve(server, uri, args.port))
    except KeyboardInterrupt:
        return outcome.OK
    finally:
        server.stop()


async def _serve(server: EmbeddedServer, uri: str, port: int) -> int:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    relay = None
    if urlsplit(uri).port != port:
        try:
            relay = await forward(port, urlsplit(uri).port or 0)
        except OSError as exc:
            raise ArgumentProblem(f"finews serve: port {port} is in use ({exc.strerror})") from None
        logger.info("The embedded server was started by a run on port %s: port %d relays to it",
                    urlsplit(uri).port, port)
    print(f"mongodb://127.0.0.1:{port}/?directConnection=true", flush=True)
    try:
        while not stopping.is_set():
            try:
                await asyncio.wait_for(stopping.wait(), _WATCH_SECONDS)
            except TimeoutError:
                if not await asyncio.to_thread(answers, uri, 5000):
                    print(f"finews serve: the embedded server at {uri} stopped answering", file=sys.stderr)
                    return outcome.STORAGE_DOWN
        return outcome.OK
    finally:
        if relay is not None:
            relay.close()


def _taken(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
