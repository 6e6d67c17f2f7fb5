"""The capture writer: a process of its own that builds WARC records with warcio and appends them to files.

finews.storage.warc feeds it batches of pickled jobs on stdin and reads back, a batch of answers for each,
where each record went. Building a
record (warcio's gzip at level 9 and its block digests) is pure-Python work: in a thread it took the
GIL from the reactor (a crawl ran at 0.79x with captures on); in a process it runs on another core.
When its input ends without a stop (the crawl was killed), it closes its file cleanly all the same.
"""

from __future__ import annotations

import fcntl
import json
import os
import pickle
import socket
import sqlite3
import sys
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import IO, Any

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

OPEN_SUFFIX = ".open"
# Headers that describe the bytes on the wire, not the payload kept (Scrapy has decoded it).
_WIRE_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


def digests_db(folder: Path) -> sqlite3.Connection:
    db = sqlite3.connect(folder / "digests.sqlite", timeout=30)
    db.execute("CREATE TABLE IF NOT EXISTS seen (uri TEXT PRIMARY KEY, digest TEXT, date TEXT, file TEXT, "
               "offset INTEGER, record_id TEXT)")
    return db


def taken(handle: IO[bytes], path: Path) -> bool:
    """An exclusive lock on the file ``handle`` opened, which ``path`` still names: False when another run holds
    it, or renamed it (took or closed it) since it was opened."""
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino
    except OSError:
        return False


class Files:
    """The open WARC file, rotated past ``max_bytes``; each run's part opened by a warcinfo record.

    A run first appends to the newest closed file still under ``max_bytes`` (a cron run every few minutes
    would otherwise leave a small file each time: about 105,000 a year, more than a shell's ``warcio check
    warc/*.warc.gz`` can name). It keeps the file's name, so the pointers into it stay valid; while it
    writes, the file is ``.open`` and locked, as a new one is."""

    def __init__(self, folder: Path, max_bytes: int, info: dict[str, str], prefix: str) -> None:
        self.folder, self.max_bytes, self.info, self.prefix = folder, max_bytes, info, prefix
        self.handle: IO[bytes] | None = None
        self.name: str | None = None
        self.serial = 0

    def current(self) -> tuple[str, IO[bytes]]:
        if self.handle is None or self.handle.tell() > self.max_bytes:
            self.finish()
            self.serial += 1
            if self.serial > 1 or not self._resume():
                stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")[:17]
                self.name = f"{self.prefix}-{stamp}-{self.serial:05d}-{os.getpid()}~{socket.gethostname()}.warc.gz"
                self.handle = (self.folder / (self.name + OPEN_SUFFIX)).open("ab")
                fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new name: no one else holds it
            writer = WARCWriter(self.handle, gzip=True, warc_version="1.1")
            writer.write_record(writer.create_warcinfo_record(self.name, self.info))
        return self.name, self.handle

    def _resume(self) -> bool:
        """Reopen the newest closed file under ``max_bytes`` for appending; False when there is none, or when
        another run (a second worker) holds it or took it first, or it cannot be written."""
        closed = sorted(self.folder.glob(f"{self.prefix}-*.warc.gz"))
        if not closed:
            return False
        path = closed[-1]
        try:
            handle = os.fdopen(os.open(path, os.O_WRONLY | os.O_APPEND), "ab")
        except OSError:  # taken (renamed .open) since the listing, or not ours to write
            return False
        # Still that name, and room left: the lock may have come after another run appended and closed it.
        if taken(handle, path) and os.fstat(handle.fileno()).st_size < self.max_bytes:
            try:
                path.replace(path.with_name(path.name + OPEN_SUFFIX))
            except OSError:  # gone meanwhile
                pass
            else:
                handle.seek(0, os.SEEK_END)
                self.name, self.handle = path.name, handle
                return True
        handle.close()
        return False

    def sync(self) -> None:
        if self.handle is not None:
            self.handle.flush()
            os.fsync(self.handle.fileno())

    def finish(self) -> None:
        if self.handle is None or self.name is None:
            return
        self.sync()
        (self.folder / (self.name + OPEN_SUFFIX)).replace(self.folder / self.name)
        self.handle.close()
        self.handle = self.name = None


def write(handle: IO[bytes], job: dict[str, Any]) -> None:
    """A job's records (a response or revisit with its request, or a resource), built with warcio."""
    writer = WARCWriter(handle, gzip=True, warc_version="1.1")
    own = {"WARC-Record-ID": job["record_id"], "WARC-Date": job["date"]}
    if job["kind"] == "resource":
        writer.write_record(writer.create_warc_record(
            job["uri"], "resource", payload=BytesIO(job["body"]), warc_content_type=job["content_type"],
            warc_headers_dict={**own, **job["extra"]}))
        return
    kept = [(k, v) for k, v in job["headers"] if k.lower() not in _WIRE_HEADERS]
    http = StatusAndHeaders(f"{job['status']} {job['reason']}".strip(),
                            [*kept, ("Content-Length", str(len(job["body"])))], protocol="HTTP/1.1")
    if job["earlier_id"]:
        response = writer.create_revisit_record(job["uri"], job["digest"], job["uri"], job["earlier_date"],
                                                http_headers=http,
                                                warc_headers_dict={**own, "WARC-Refers-To": job["earlier_id"]})
    else:
        response = writer.create_warc_record(job["uri"], "response", payload=BytesIO(job["body"]), http_headers=http,
                                             warc_headers_dict={**own, "WARC-Payload-Digest": job["digest"]})
    request = writer.create_warc_record(
        job["uri"], "request", payload=BytesIO(b""),
        http_headers=StatusAndHeaders(f"{job['method']} {request_target(job['uri'])} HTTP/1.1",
                                      job["request_headers"], is_http_request=True),
        warc_headers_dict={"WARC-Concurrent-To": job["record_id"], "WARC-Date": job["date"]})
    writer.write_record(response)
    writer.write_record(request)


def request_target(url: str) -> str:
    after_scheme = url.split("://", 1)[-1]
    slash = after_scheme.find("/")
    return after_scheme[slash:] if slash >= 0 else "/"


class Writer:
    """The writer's state: the open file, the digests to remember at the next sync, the answers not yet sent."""

    def __init__(self, config: dict[str, Any]) -> None:
        folder = Path(config["folder"])
        self.files = Files(folder, config["max_bytes"], config["info"], config["prefix"])
        self.digests = digests_db(folder)
        self.remembered: list[tuple] = []
        self.failed: str | None = None
        self.answers: list[tuple] = []

    def handle(self, message: tuple) -> bool:
        """One message; True once it was the stop."""
        try:
            if message[0] == "record":
                self.record(message[1])
            elif message[0] in ("sync", "stop"):
                if self.failed is None:
                    self.sync()
                if message[0] == "stop":
                    self.files.finish()
                    return True
                self.answers.append(("synced", message[1], self.failed))
        except (OSError, sqlite3.Error, ValueError) as exc:
            self.failed = self.failed or f"{type(exc).__name__}: {exc}"
            self.answers.append(("failed", self.failed))
            if message[0] == "record":
                self.answers.append(("located", message[1]["record_id"], None, None, 0))
            elif message[0] == "sync":
                self.answers.append(("synced", message[1], self.failed))
            return message[0] == "stop"
        return False

    def record(self, job: dict[str, Any]) -> None:
        if self.failed is not None:
            self.answers.append(("located", job["record_id"], None, None, 0))
            return
        name, handle = self.files.current()
        offset = handle.tell()
        write(handle, job)
        self.answers.append(("located", job["record_id"], name, offset, handle.tell() - offset))
        if job["kind"] == "response" and not job["earlier_id"] and job["body"] and job["status"] != 304:
            self.remembered.append((job["uri"], job["digest"], job["date"], name, offset, job["record_id"]))

    def sync(self) -> None:
        self.files.sync()
        if self.remembered:
            self.digests.executemany("INSERT OR REPLACE INTO seen VALUES (?, ?, ?, ?, ?, ?)", self.remembered)
            self.digests.commit()
            self.remembered = []

    def answer(self, results: IO[bytes]) -> None:
        if self.answers:
            pickle.dump(self.answers, results, protocol=pickle.HIGHEST_PROTOCOL)
            results.flush()
            self.answers = []


def serve(config: dict[str, Any], jobs: IO[bytes], results: IO[bytes]) -> None:
    """Batches of messages in, one batch of answers out for each: a wake-up of the reader a batch, not a record."""
    writer = Writer(config)
    try:
        stopped = False
        while not stopped:
            try:
                batch = pickle.load(jobs)
            except (EOFError, pickle.UnpicklingError):  # the crawl is gone without a stop (perhaps mid-batch):
                batch = [("stop",)]  # close the file as a stop would
            for message in batch:
                stopped = stopped or writer.handle(message)
            writer.answer(results)
    finally:
        writer.digests.close()


if __name__ == "__main__":
    try:
        serve(json.loads(sys.argv[1]), sys.stdin.buffer, sys.stdout.buffer)
    except (BrokenPipeError, KeyboardInterrupt):
        pass
