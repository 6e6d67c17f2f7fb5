"""The keeper of an embedded store: starts its SecantusDB server, stops it when no run uses it any more.

Runs do not own the server (finews.storage.embedded): each holds a shared ``flock``
on ``users.lock`` while it uses it, and the kernel drops that lock however the run
ends, SIGKILL included. The keeper, in a session of its own, polls that lock: once
no one has held it for ``--grace`` seconds it takes it exclusively (so no run can
join meanwhile), stops the server with SIGTERM (WiredTiger closes cleanly) and
exits. The server dies with its keeper (``PR_SET_PDEATHSIG``), so neither is left
behind, and one keeper per folder (``keeper.lock``) means one server per folder.
"""

from __future__ import annotations

import argparse
import ctypes
import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from finews.processes import stop_process

logger = logging.getLogger(__name__)

STATE_FILE = "finews-server.json"
USERS_LOCK = "users.lock"
KEEPER_LOCK = "keeper.lock"
_PR_SET_PDEATHSIG = 1
_POLL_SECONDS = 0.25


def answers(uri: str, timeout_ms: int = 1000) -> bool:
    client = MongoClient(uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms)
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def unused(users: int) -> bool:
    """No run holds the users lock (tried without waiting; released again at once)."""
    try:
        fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    fcntl.flock(users, fcntl.LOCK_UN)
    return True


def _die_with_keeper() -> None:
    """In the server's process before exec: SIGTERM it when the keeper dies, even by SIGKILL."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class _Stop(Exception):
    pass


def _stop(signum: int, frame: object) -> None:
    raise _Stop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m finews.storage.keeper", description=__doc__.splitlines()[0])
    parser.add_argument("--storage-path", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--changes-days", type=float, required=True)
    parser.add_argument("--changes-max-entries", type=int, required=True)
    parser.add_argument("--grace", type=float, default=2.0, help="seconds without users before the server stops")
    parser.add_argument("--start-timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s keeper %(process)d: %(message)s")
    folder: Path = args.storage_path
    keeper = os.open(folder / KEEPER_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(keeper, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        logger.error("another keeper serves %s", folder)
        return 3
    users = os.open(folder / USERS_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    uri = f"mongodb://127.0.0.1:{args.port}/?directConnection=true"
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    server = subprocess.Popen(
        [args.binary, "--host", "127.0.0.1", "--port", str(args.port), "--storage-path", str(folder),
         "--log-level", "WARNING",
         # The change feed's window (finews/storage/changes.py): SecantusDB keeps an hour by default. Its time
         # bound prunes "opportunistically": measured, never within a run's life (nor over a restart), while the
         # count bound prunes at every write. The count is what keeps data/ bounded over a year of cron runs.
         "--oplog-retention-seconds", str(int(args.changes_days * 86400)),
         "--oplog-max-entries", str(args.changes_max_entries)],
        preexec_fn=_die_with_keeper,  # noqa: PLW1509 (the keeper has no threads)
    )
    state = folder / STATE_FILE
    try:
        if not _up(server, uri, args.start_timeout):
            return 1
        written = state.with_suffix(".tmp")
        written.write_text(json.dumps({"uri": uri, "pid": server.pid, "keeper": os.getpid()}))
        written.replace(state)
        logger.info("serving %s at %s", folder, uri)
        prune_changes(uri)  # what the last server, killed or stopped, left past the window
        if not _keep(server, users, args.grace):
            logger.error("SecantusDB exited with %s", server.returncode)
            return 1
        logger.info("no run uses %s: stopping the server", folder)
    except _Stop:
        logger.info("stopped by a signal")
    finally:
        if server.poll() is None:
            prune_changes(uri)
        stop_process(server, 30)
        state.unlink(missing_ok=True)
    return 0


def prune_changes(uri: str) -> None:
    """Drop the changes past the feed's window (FINEWS_CHANGES_DAYS, FINEWS_CHANGES_MAX_ENTRIES) now.

    SecantusDB prunes its oplog by itself only every 1,000 entries one server process writes (secantus/
    storage.py, _OPLOG_PRUNE_INTERVAL), and a cron run's server writes a few dozen: without this the bounds
    never applied and data/ grew by every change. ``secantusAdmin.pruneOplog`` is its command for a sweep.
    """
    client = MongoClient(uri, serverSelectionTimeoutMS=5000, connectTimeoutMS=5000)
    try:
        pruned = client.admin.command({"secantusAdmin.pruneOplog": 1}).get("pruned", 0)
        if pruned:
            logger.info("change feed: %d entr(ies) past its window dropped", pruned)
    except PyMongoError as exc:
        logger.warning("change feed not pruned: %s", type(exc).__name__)
    finally:
        client.close()


def _up(server: subprocess.Popen, uri: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not answers(uri):
        if server.poll() is not None:
            logger.error("SecantusDB exited with %s", server.returncode)
            return False
        if time.monotonic() > deadline:
            logger.error("SecantusDB did not answer within %.0f s", timeout)
            return False
        time.sleep(0.2)
    return True


def _keep(server: subprocess.Popen, users: int, grace: float) -> bool:
    """Until no run has used the server for ``grace`` seconds (True, the users lock then held), or it dies."""
    idle_since: float | None = None
    while server.poll() is None:
        time.sleep(_POLL_SECONDS)
        if not unused(users):
            idle_since = None
            continue
        idle_since = idle_since or time.monotonic()
        if time.monotonic() - idle_since < grace:
            continue
        try:  # held while the server stops: a run that comes now waits, then starts a new keeper
            fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            idle_since = None
            continue
        return True
    return False


if __name__ == "__main__":
    sys.exit(main())
