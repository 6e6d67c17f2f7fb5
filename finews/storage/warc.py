"""Raw captures: what finews reads, kept as WARC 1.1 (warcio), one gzip member per record.

The caller's thread (the reactor) only decides what to keep: a payload digest, and whether this URL
gave the same payload before. One writer thread builds the records with warcio (the gzip and the
block digests are most of the cost), appends them, fsyncs, and then fills in each capture's pointer
(file and offset; the record id is chosen up front). ``located()`` gives the pointer once it is
known, and ``sync()``, called by the store pipeline's worker thread before each batch, returns once
everything queued is on disk: no article is archived before its capture.

A file is written as ``<name>.warc.gz.open`` under an exclusive ``flock`` and renamed when closed; a
file a killed run left ``.open`` (no lock held) is cut after its last whole record and closed by the
next run. A payload seen before at the same URL (same digest, ``digests.sqlite`` here) becomes a
``revisit`` record of the identical-payload-digest profile, so an unchanged site adds almost nothing.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import queue
import socket
import sqlite3
import threading
import weakref
import zlib
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import IO, Any

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParser
from warcio.timeutils import datetime_to_iso_date
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

logger = logging.getLogger(__name__)

OPEN_SUFFIX = ".open"
# Headers that describe the bytes on the wire, not the payload kept (Scrapy has decoded it).
_WIRE_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


def pointer(record_id: str, file: str | None = None, offset: int | None = None) -> dict[str, Any]:
    """Where a capture is: the WARC file (relative to the capture folder), the record's offset, its id. File and
    offset are None until the writer has written the record (``WarcStore.located``)."""
    return {"file": file, "offset": offset, "record_id": record_id}


@dataclass
class _Seen:
    digest: str
    date: str
    pointer: dict[str, Any]


@dataclass
class _Job:
    kind: str  # "response" or "resource"
    uri: str
    body: bytes
    record_id: str
    date: str
    digest: str
    where: dict[str, Any]
    located: Future
    status: int = 200
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    method: str = "GET"
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    earlier: _Seen | None = None


class WarcStore:
    def __init__(self, folder: str | Path, max_bytes: int, info: dict[str, str], prefix: str = "finews") -> None:
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self.info = info
        self.prefix = prefix
        self._seen: dict[str, _Seen] = {}
        self._queue: queue.Queue = queue.Queue()
        self._writer: threading.Thread | None = None
        self._opened = threading.Lock()
        self._serial = 0
        self._futures: dict[str, Future] = {}
        self.failed: BaseException | None = None
        self.records = self.bytes = self.revisits = self.recovered = 0

    # -- opening and closing (off the reactor thread) ----------------------------------------------

    def open(self) -> None:
        """Close what killed runs left open (a line each), load the digests, start the writer. Idempotent: the
        store pipeline opens it before it replays its journal, the capture middleware when the spider opens."""
        with self._opened:
            if self._writer is not None:
                return
            self.folder.mkdir(parents=True, exist_ok=True)
            for path in sorted(self.folder.glob(f"*{OPEN_SUFFIX}")):
                line = recover(path)
                if line:
                    logger.warning(line)
                    self.recovered += 1
            with self._digests() as db:
                for uri, digest, date, file, offset, record_id in db.execute("SELECT * FROM seen"):
                    self._seen[uri] = _Seen(digest, date, pointer(record_id, file, offset))
            self._writer = threading.Thread(target=self._write_loop, name="finews-warc", daemon=True)
            self._writer.start()

    def close(self) -> None:
        """Write what is queued, close the file (renamed from .open), stop the writer."""
        if self._writer is None:
            return
        self._queue.put(("stop", None, None))
        self._writer.join()
        self._writer = None

    def sync(self) -> None:
        """Return once every record queued so far is written and fsynced (raises OSError if writing failed)."""
        if self._writer is None:
            return
        done = threading.Event()
        self._queue.put(("sync", done, None))
        done.wait()
        if self.failed is not None:
            raise OSError(f"WARC writing failed: {self.failed}")

    def _digests(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.folder / "digests.sqlite", timeout=30)
        db.execute("CREATE TABLE IF NOT EXISTS seen (uri TEXT PRIMARY KEY, digest TEXT, date TEXT, file TEXT, "
                   "offset INTEGER, record_id TEXT)")
        return db

    # -- what to keep (on the caller's thread: a digest and a lookup) ------------------------------------

    def capture_response(self, url: str, status: int, reason: str, headers: list[tuple[str, str]], body: bytes,
                         method: str = "GET", request_headers: list[tuple[str, str]] | None = None) -> dict[str, Any]:
        """A request and its response; a payload this URL gave before becomes a revisit. The pointer of the
        record holding the payload (the earlier one for a revisit)."""
        digest = payload_digest(body)
        earlier = self._seen.get(url)
        revisit = bool(body) and status != 304 and earlier is not None and earlier.digest == digest
        job = self._job("response", url, body, digest, status=status, reason=reason, headers=headers, method=method,
                        request_headers=request_headers or [], earlier=earlier if revisit else None)
        if revisit:
            self.revisits += 1
            return earlier.pointer
        if body and status != 304:
            self._seen[url] = _Seen(digest, job.date, job.where)
        return job.where

    def capture_resource(self, uri: str, body: bytes, content_type: str,
                         headers: dict[str, str] | None = None) -> dict[str, Any]:
        """Content no HTTP exchange of finews' own gave: a local post source, a page Splash rendered."""
        return self._job("resource", uri, body, payload_digest(body), content_type=content_type,
                         extra=dict(headers or {})).where

    def _job(self, kind: str, uri: str, body: bytes, digest: str, **details: Any) -> _Job:
        record_id = StatusAndHeadersParser.make_warc_id()
        date = datetime_to_iso_date(datetime.now(UTC).replace(tzinfo=None), use_micros=True)
        job = _Job(kind, uri, body, record_id, date, digest, pointer(record_id), Future(), **details)
        self._futures[record_id] = job.located
        self._queue.put(("record", job, None))
        self.records += 2 if kind == "response" else 1
        return job

    async def located(self, where: dict[str, Any]) -> dict[str, Any] | None:
        """The pointer with its file and offset, once the writer has written its record (None if it could not)."""
        if where.get("offset") is None:
            future = self._futures.get(where["record_id"])
            if future is not None:
                await asyncio.wrap_future(future)
        return where if where.get("offset") is not None else None

    # -- the writer thread ------------------------------------------------------------------------

    def _write_loop(self) -> None:
        current: IO[bytes] | None = None
        name: str | None = None
        digests = self._digests()
        pending: list[tuple] = []
        try:
            while True:
                kind, job, _ = self._queue.get()
                try:
                    if kind == "record":
                        if self.failed is None:
                            if current is None or current.tell() > self.max_bytes:
                                self._finish(current, name)
                                name, current = self._start_file()
                            self._write(current, name, job)
                            if job.kind == "response" and job.earlier is None and job.body and job.status != 304:
                                pending.append((job.uri, job.digest, job.date, name, job.where["offset"],
                                                job.record_id))
                        job.located.set_result(None)
                    elif kind in ("sync", "stop"):
                        if current is not None and self.failed is None:
                            current.flush()
                            os.fsync(current.fileno())
                        if pending:
                            digests.executemany("INSERT OR REPLACE INTO seen VALUES (?, ?, ?, ?, ?, ?)", pending)
                            digests.commit()
                            pending = []
                        if kind == "stop":
                            self._finish(current, name)
                            current = name = None
                            return
                        job.set()
                except (OSError, sqlite3.Error, ValueError) as exc:
                    if self.failed is None:
                        logger.error("Writing WARC captures in %s failed: %s", self.folder, exc)
                    self.failed = exc
                    if kind == "record" and not job.located.done():
                        job.located.set_result(None)
                    elif kind == "sync":
                        job.set()
        finally:
            digests.close()

    def _write(self, handle: IO[bytes], name: str, job: _Job) -> None:
        """The job's records, built with warcio into the open file; then its pointer is known."""
        writer = WARCWriter(handle, gzip=True, warc_version="1.1")
        offset = handle.tell()
        if job.kind == "resource":
            record = writer.create_warc_record(
                job.uri, "resource", payload=BytesIO(job.body), warc_content_type=job.content_type,
                warc_headers_dict={"WARC-Record-ID": job.record_id, "WARC-Date": job.date, **job.extra})
            writer.write_record(record)
        else:
            kept = [(k, v) for k, v in job.headers if k.lower() not in _WIRE_HEADERS]
            http = StatusAndHeaders(f"{job.status} {job.reason}".strip(),
                                    [*kept, ("Content-Length", str(len(job.body)))], protocol="HTTP/1.1")
            own = {"WARC-Record-ID": job.record_id, "WARC-Date": job.date}
            if job.earlier is not None:
                response = writer.create_revisit_record(
                    job.uri, job.digest, job.uri, job.earlier.date, http_headers=http,
                    warc_headers_dict={**own, "WARC-Refers-To": job.earlier.pointer["record_id"]})
            else:
                response = writer.create_warc_record(job.uri, "response", payload=BytesIO(job.body),
                                                     http_headers=http,
                                                     warc_headers_dict={**own, "WARC-Payload-Digest": job.digest})
            request = writer.create_warc_record(
                job.uri, "request", payload=BytesIO(b""),
                http_headers=StatusAndHeaders(f"{job.method} {_request_target(job.uri)} HTTP/1.1",
                                              job.request_headers, is_http_request=True),
                warc_headers_dict={"WARC-Concurrent-To": job.record_id, "WARC-Date": job.date})
            writer.write_record(response)
            writer.write_record(request)
        self.bytes += handle.tell() - offset
        job.where["file"], job.where["offset"] = name, offset
        self._futures.pop(job.record_id, None)

    def _start_file(self) -> tuple[str, IO[bytes]]:
        self._serial += 1
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")[:17]
        name = f"{self.prefix}-{stamp}-{self._serial:05d}-{os.getpid()}~{socket.gethostname()}.warc.gz"
        handle = (self.folder / (name + OPEN_SUFFIX)).open("ab")
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new name: no one else holds it
        writer = WARCWriter(handle, gzip=True, warc_version="1.1")
        writer.write_record(writer.create_warcinfo_record(name, self.info))
        return name, handle

    def _finish(self, handle: IO[bytes] | None, name: str | None) -> None:
        if handle is None or name is None:
            return
        handle.flush()
        os.fsync(handle.fileno())
        (self.folder / (name + OPEN_SUFFIX)).replace(self.folder / name)
        handle.close()

    def on_disk(self, pointer: dict[str, Any] | None) -> bool:
        """Whether a capture a journaled article names survived (a killed run's last records may not have)."""
        if not pointer or pointer.get("offset") is None:
            return False
        for name in (pointer["file"], pointer["file"] + OPEN_SUFFIX):  # closed, or still being written
            try:
                return (self.folder / name).stat().st_size > pointer["offset"]
            except OSError:
                continue
        return False


def payload_digest(body: bytes) -> str:
    digester = Digester("sha1")
    digester.update(body)
    return str(digester)


def _request_target(url: str) -> str:
    after_scheme = url.split("://", 1)[-1]
    slash = after_scheme.find("/")
    return after_scheme[slash:] if slash >= 0 else "/"


def recover(path: Path) -> str | None:
    """A file a killed run left open: cut after its last whole record, close it; the log line, or None when a
    live run still writes it."""
    with path.open("r+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return None
        end = last_whole_record_end(handle)
        size = handle.seek(0, os.SEEK_END)
        handle.truncate(end)
        handle.flush()
        os.fsync(handle.fileno())
        final = path.with_name(path.name[: -len(OPEN_SUFFIX)])
        path.replace(final)
    cut = size - end
    return (f"WARC file {final.name} was left open by a killed run: closed"
            + (f", its torn last {cut} byte(s) cut" if cut else ""))


def last_whole_record_end(handle: IO[bytes]) -> int:
    """The offset just past the last record warcio reads whole from the start of the file."""
    handle.seek(0)
    end = 0
    records = ArchiveIterator(handle, check_digests=True)
    try:
        for record in records:
            record.content_stream().read()
            offset = records.get_record_offset()
            records.read_to_end(record)
            length = records.get_record_length()
            end = offset + length
    except (ArchiveLoadFailed, EOFError, OSError, ValueError, zlib.error) as exc:
        logger.debug("WARC record unreadable after offset %d: %s", end, exc)
    return end


_stores: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_stores_lock = threading.Lock()


def warc_for(crawler: Any) -> WarcStore | None:
    """The crawl's one capture store, made from its settings on first use; None when FINEWS_WARC is off."""
    settings = crawler.settings
    if not settings.getbool("FINEWS_WARC"):
        return None
    with _stores_lock:
        store = _stores.get(crawler)
        if store is None:
            folder = Path(settings.get("FINEWS_DATA_DIR")) / "warc"
            store = _stores[crawler] = WarcStore(folder, settings.getint("FINEWS_WARC_MAX_BYTES"), warcinfo(settings))
        return store


def warcinfo(settings: Any) -> dict[str, str]:
    """The warcinfo record's fields: what made the captures and what shapes their parsing."""
    from finews import __version__  # noqa: PLC0415 - the package imports storage modules
    from finews.parsing import PARSER_VERSION  # noqa: PLC0415

    return {"software": f"finews/{__version__} (warcio)", "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "hostname": socket.gethostname(), "finews-parser-version": str(PARSER_VERSION),
            "finews-base-url": str(settings.get("FINEWS_BASE_URL")),
            "finews-share-hosts": str(settings.get("FINEWS_SHARE_HOSTS")),
            "finews-max-body-chars": str(settings.get("FINEWS_MAX_BODY_CHARS"))}


@dataclass(frozen=True)
class Captured:
    """One record read back: its type, target URI, date and payload (the HTTP body of a response)."""

    kind: str
    uri: str
    date: str
    status: int | None
    body: bytes


def read_record(folder: str | Path, pointer: dict[str, Any]) -> Captured:
    """The record a pointer names (OSError when its file is gone, ValueError when no record is there)."""
    base = Path(folder)
    path = base / pointer["file"]
    if not path.exists():
        path = base / (pointer["file"] + OPEN_SUFFIX)
    with path.open("rb") as handle:
        handle.seek(pointer["offset"])
        try:
            record = next(iter(ArchiveIterator(handle)))
        except (StopIteration, ArchiveLoadFailed, EOFError, zlib.error) as exc:
            raise ValueError(f"no WARC record at {pointer['file']}:{pointer['offset']} ({exc})") from None
        headers = record.rec_headers
        if headers.get_header("WARC-Record-ID") != pointer["record_id"]:
            raise ValueError(f"the record at {pointer['file']}:{pointer['offset']} is not {pointer['record_id']}")
        status = record.http_headers.get_statuscode() if record.http_headers else None
        return Captured(record.rec_type, headers.get_header("WARC-Target-URI"), headers.get_header("WARC-Date"),
                        int(status) if status else None, record.content_stream().read())
