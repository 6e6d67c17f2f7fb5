"""The embedded default store: a SecantusDB server (MongoDB wire protocol over WiredTiger) on a data folder.

With no MONGO_URI, a run joins the server of ``<FINEWS_DATA_DIR>/mongo`` (starting
it through a keeper, finews.storage.keeper, if none serves the folder) and leaves it
at its end; the keeper stops the server once no run uses it. So any number of runs
(several spiders from cron, ``finews serve`` for downstream jobs) share one server,
none stops it under another, and a run killed with SIGKILL leaves nothing behind.
SecantusDB lives in its own virtual environment (``make`` puts it in ``.secantus/``).
"""

from __future__ import annotations

import fcntl
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
from typing import IO

from finews.defaults import DEFAULTS
from finews.processes import process_alive
from finews.storage.keeper import STATE_FILE, USERS_LOCK, answers

logger = logging.getLogger(__name__)

BINARY_NAME = "secantusd-py"
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


class EmbeddedServer:
    def __init__(self, data_dir: str | Path, *, port: int = 0, binary: str | None = None,
                 start_timeout: float = 60.0, changes_days: float = 7.0,
                 changes_max_entries: int = DEFAULTS["FINEWS_CHANGES_MAX_ENTRIES"]) -> None:
        self.data_dir = Path(data_dir)
        self.changes_days = changes_days
        self.changes_max_entries = changes_max_entries
        self.port = port
        self.binary = binary
        self.start_timeout = start_timeout
        self.uri: str | None = None
        self._user: IO[str] | None = None
        self._keeper: subprocess.Popen | None = None

    @property
    def state_file(self) -> Path:
        return self.data_dir / STATE_FILE

    def start(self) -> str:
        """Join the server of the data folder (starting one if none serves it); its URI."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        user = (self.data_dir / USERS_LOCK).open("a+", encoding="utf-8")
        fcntl.flock(user, fcntl.LOCK_SH)  # waits only while a keeper stops its server
        try:
            with (self.data_dir / "start.lock").open("a+", encoding="utf-8") as starting:
                fcntl.flock(starting, fcntl.LOCK_EX)  # one run starts a keeper; the others wait for it
                uri = self.running_uri()
                if uri:
                    logger.info("Joining the SecantusDB server already serving %s", self.data_dir)
                else:
                    self._stop_orphan()
                    uri = self._start_keeper()
        except BaseException:
            user.close()
            raise
        self._user, self.uri = user, uri
        return uri

    def _start_keeper(self) -> str:
        port = self.port or free_port()
        log = (self.data_dir.parent / "secantus.log").open("ab")
        self._keeper = subprocess.Popen(
            [sys.executable, "-m", "finews.storage.keeper", "--storage-path", str(self.data_dir), "--port", str(port),
             "--binary", find_binary(self.binary), "--changes-days", str(self.changes_days),
             "--changes-max-entries", str(self.changes_max_entries),
             "--start-timeout", str(self.start_timeout)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # not in the run's process group: a signal to the run's group spares it
        )
        log.close()
        deadline = time.monotonic() + self.start_timeout + 5
        while (uri := self.running_uri()) is None:
            if self._keeper.poll() is not None:
                raise EmbeddedServerError(f"SecantusDB did not start (exit {self._keeper.returncode}; see "
                                          f"{self.data_dir.parent / 'secantus.log'})")
            if time.monotonic() > deadline:
                raise EmbeddedServerError(f"SecantusDB did not answer within {self.start_timeout:.0f} s")
            time.sleep(0.1)
        return uri

    def _state(self) -> dict:
        try:
            state = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}

    def running_uri(self) -> str | None:
        state = self._state()
        uri = state.get("uri")
        return uri if uri and process_alive(state.get("keeper")) and answers(uri) else None

    def _stop_orphan(self) -> None:
        """A server with no keeper (started by an older finews, or its keeper killed): stop it, it holds the folder."""
        pid = self._state().get("pid")
        if not process_alive(pid) or BINARY_NAME.encode() not in _command_line(pid):  # gone, or the pid reused
            return
        logger.warning("Stopping SecantusDB pid %s: it serves %s with no keeper", pid, self.data_dir)
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while process_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if process_alive(pid):
            os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        """Leave the server: the keeper stops it once no run uses it."""
        if self._user is not None:
            self._user.close()
            self._user = None
        if self._keeper is not None and self._keeper.poll() is not None:
            self._keeper = None  # reaped

    def shutdown(self, timeout: float = 40.0) -> None:
        """Stop the server now, whoever uses it (tests of a database going away; an operator's stop)."""
        self.stop()
        keeper = self._state().get("keeper")
        if process_alive(keeper):
            os.kill(keeper, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while (process_alive(keeper) or self.state_file.exists()) and time.monotonic() < deadline:
            if self._keeper is not None:
                self._keeper.poll()
            time.sleep(0.1)


def _command_line(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
