"""One run per spider at a time: an exclusive lock file that a killed run cannot leave behind.

The lock is an ``flock`` on ``<FINEWS_DATA_DIR>/locks/<spider>.lock``: the kernel
drops it when its holder dies, however it dies, so a stale file is simply taken
over (and said so). The file records the holder for ``finews status``.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

logger = logging.getLogger(__name__)


class LockHeld(RuntimeError):
    def __init__(self, path: Path, holder: dict[str, Any]) -> None:
        super().__init__(f"another run holds {path}: {describe(holder)}")
        self.path = path
        self.holder = holder


def describe(holder: dict[str, Any]) -> str:
    if not holder:
        return "holder unknown"
    return f"pid {holder.get('pid')} on {holder.get('host')} since {holder.get('since')} ({holder.get('command', '')})"


class RunLock:
    def __init__(self, folder: str | Path, name: str) -> None:
        self.path = Path(folder) / f"{name}.lock"
        self._handle: IO[str] | None = None

    def acquire(self, command: str = "") -> None:
        """Take the lock or raise LockHeld at once (no waiting: a cron run that overlaps just exits)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = read_holder(self.path)
            handle.close()
            raise LockHeld(self.path, holder) from None
        previous = read_holder(self.path)
        if previous:
            logger.warning("Taking over the stale lock %s left by a run that is gone: %s", self.path,
                           describe(previous))
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "since": datetime.now(UTC).isoformat(timespec="seconds"), "command": command}))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.seek(0)
            self._handle.truncate()
            self._handle.close()
            self._handle = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def read_holder(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


def holders(folder: str | Path) -> list[tuple[str, dict[str, Any], bool]]:
    """(lock name, recorded holder, held now) of every lock file, for `finews status`."""
    found = []
    for path in sorted(Path(folder).glob("*.lock")):
        with path.open("a+", encoding="utf-8") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = False
                fcntl.flock(handle, fcntl.LOCK_UN)
            except OSError:
                held = True
        found.append((path.stem, read_holder(path), held))
    return found
