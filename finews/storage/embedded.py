"""The embedded default store: a SecantusDB server (MongoDB wire protocol over WiredTiger) on a data folder.

With no MONGO_URI, finews starts one on ``<FINEWS_DATA_DIR>/mongo`` for the run
and stops it at the end, and the archive code talks to it through pymongo like
to any MongoDB. Only one process can open the folder: a server already serving
it (``finews serve``, or ``python -m finews.storage.embedded``) is reused, which
is also how downstream jobs read the archive while crawls run.
SecantusDB lives in its own virtual environment (``make`` puts it in ``.secantus/``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from finews.processes import stop_process

logger = logging.getLogger(__name__)

BINARY_NAME = "secantusd-py"
STATE_FILE = "finews-server.json"
# Oplog entries kept at most: a week of cron runs and a full import, whichever is more (each sighting is one).
OPLOG_MAX_ENTRIES = 5_000_000
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class EmbeddedServerError(RuntimeError):
    pass


def find_binary(explicit: str | None = None) -> str:
    """The SecantusDB server: the setting, else ``.secantus/`` of the project, else PATH."""
    candidates = [explicit] if explicit else [str(PROJECT_ROOT / ".secantus" / "bin" / BINARY_NAME), BINARY_NAME]
    for candidate in candidates:
        found = shutil.which(candidate)
        if found:
            return found
    raise EmbeddedServerError(
        f"no SecantusDB server found ({', '.join(candidates)}): run `make crawl` once, which installs it into "
        ".secantus/, or set MONGO_URI to a MongoDB server"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(uri: str, timeout_ms: int = 1000) -> bool:
    client = MongoClient(uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms)
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


class EmbeddedServer:
    def __init__(self, data_dir: str | Path, *, port: int = 0, binary: str | None = None,
                 start_timeout: float = 60.0, changes_days: float = 7.0) -> None:
        self.data_dir = Path(data_dir)
        self.changes_days = changes_days
        self.port = port
        self.binary = binary
        self.start_timeout = start_timeout
        self.process: subprocess.Popen | None = None
        self.uri: str | None = None

    @property
    def state_file(self) -> Path:
        return self.data_dir / STATE_FILE

    def start(self) -> str:
        """The URI of a server on the data folder: one already serving it, or a new one."""
        running = self.running_uri()
        if running:
            logger.info("Reusing the SecantusDB server already serving %s", self.data_dir)
            self.uri = running
            return running
        self.data_dir.mkdir(parents=True, exist_ok=True)
        port = self.port or free_port()
        uri = f"mongodb://127.0.0.1:{port}/?directConnection=true"
        log = (self.data_dir.parent / "secantus.log").open("ab")
        self.process = subprocess.Popen(
            [find_binary(self.binary), "--host", "127.0.0.1", "--port", str(port),
             "--storage-path", str(self.data_dir), "--log-level", "WARNING",
             # The change feed's window (finews/storage/changes.py): SecantusDB keeps an hour by default.
             "--oplog-retention-seconds", str(int(self.changes_days * 86400)),
             "--oplog-max-entries", str(OPLOG_MAX_ENTRIES)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + self.start_timeout
        while not _answers(uri):
            if self.process.poll() is not None:
                raise EmbeddedServerError(
                    f"SecantusDB exited with {self.process.returncode} (see {self.data_dir.parent / 'secantus.log'})"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise EmbeddedServerError(f"SecantusDB did not answer within {self.start_timeout:.0f} s")
            time.sleep(0.2)
        self.state_file.write_text(json.dumps({"uri": uri, "pid": self.process.pid}))
        self.uri = uri
        return uri

    def running_uri(self) -> str | None:
        try:
            state = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return None
        uri = state.get("uri")
        return uri if uri and _pid_alive(state.get("pid")) and _answers(uri) else None

    def stop(self) -> None:
        """Stop the server this object started (SIGTERM: WiredTiger closes cleanly)."""
        if self.process is None:
            return
        stop_process(self.process, 30)
        self.state_file.unlink(missing_ok=True)
        self.process = None


def _pid_alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Serve the embedded store for downstream readers until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m finews.storage.embedded", description=main.__doc__)
    parser.add_argument("--data-dir", default=os.environ.get("FINEWS_DATA_DIR", "data"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("FINEWS_EMBEDDED_PORT", "27017")))
    parser.add_argument("--changes-days", type=float, default=float(os.environ.get("FINEWS_CHANGES_DAYS", "7")))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    server = EmbeddedServer(Path(args.data_dir) / "mongo", port=args.port, changes_days=args.changes_days)
    print(server.start(), flush=True)
    if server.process is None:
        print("already served by another process", file=sys.stderr)
        return 0
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.process.wait()
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
