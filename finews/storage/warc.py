"""Raw captures: what finews reads, kept as WARC 1.1 (warcio), one gzip member per record.

The caller's thread (the reactor) only decides what to keep: a payload digest, and whether this URL
gave the same payload before. A writer process (finews.storage.warc_writer) builds the records with
warcio (its gzip and block digests are most of the cost), appends them and fsyncs; two threads here
feed it and read back each capture's pointer (file and offset; the record id is chosen up front), a
batch every ``BATCH_SECONDS``: each wakes once a batch, not once a record, so the reactor keeps its GIL.
``located()`` gives the pointer once it is known, and ``sync()``, called by the store pipeline's
worker thread before each batch, returns once everything queued is on disk: no article is archived
before its capture.

A file is written as ``<name>.warc.gz.open`` under an exclusive ``flock`` and renamed when closed (a run
appends to the newest closed file with room left, renamed the same way: ``open_capture_file`` finds a
pointer's file under either name); a file a killed run left ``.open`` (no lock held) is cut after its
last whole record and closed by the next run. A payload seen before at the same URL (same digest,
``digests.sqlite`` here) becomes a ``revisit`` record of the identical-payload-digest profile, so an
unchanged site adds almost nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import pickle
import queue
import socket
import subprocess
import sys
import threading
import time
import weakref
import zlib
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeadersParser
from warcio.timeutils import datetime_to_iso_date
from warcio.utils import Digester

from finews.storage.warc_writer import OPEN_SUFFIX, digests_db, taken

logger = logging.getLogger(__name__)

# How long records gather before they go to the writer as one batch (a batch that a sync or a stop opens goes at
# once). Measured with benchmarks/crawl.py: a batch a record ran the crawl at 0.80x with captures on, 20 ms at 0.93x.
BATCH_SECONDS = 0.02


def pointer(record_id: str, file: str | None = None, offset: int | None = None) -> dict[str, Any]:
    """Where a capture is: the WARC file (relative to the capture folder), the record's offset, its id. File and
    offset are None until the writer has written the record (``WarcStore.located``)."""
    return {"file": file, "offset": offset, "record_id": record_id}


@dataclass
class _Seen:
    digest: str
    date: str
    pointer: dict[str, Any]


class WarcStore:
    def __init__(self, folder: str | Path, max_bytes: int, info: dict[str, str], prefix: str = "finews") -> None:
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self.info = info
        self.prefix = prefix
        self._seen: dict[str, _Seen] = {}
        self._queue: queue.Queue = queue.Queue()
        self._process: subprocess.Popen | None = None
        self._feeder: threading.Thread | None = None
        self._reader: threading.Thread | None = None
        self._syncs: dict[int, threading.Event] = {}
        self._opened = threading.Lock()
        self._futures: dict[str, tuple[dict[str, Any], Future]] = {}
        self.failed: str | None = None  # why writing stopped, once it has
        self.records = self.bytes = self.revisits = self.recovered = 0

    # -- opening and closing (off the reactor thread) ----------------------------------------------

    def open(self) -> None:
        """Close what killed runs left open (a line each), load the digests, start the writer. Idempotent: the
        store pipeline opens it before it replays its journal, the capture middleware when the spider opens."""
        with self._opened:
            if self._process is not None:
                return
            self.folder.mkdir(parents=True, exist_ok=True)
            for path in sorted(self.folder.glob(f"*{OPEN_SUFFIX}")):
                line = recover(path)
                if line:
                    logger.warning(line)
                    self.recovered += 1
            db = digests_db(self.folder)
            try:
                for uri, digest, date, file, offset, record_id in db.execute("SELECT * FROM seen"):
                    self._seen[uri] = _Seen(digest, date, pointer(record_id, file, offset))
            finally:
                db.close()
            config = {"folder": str(self.folder), "max_bytes": self.max_bytes, "info": self.info,
                      "prefix": self.prefix}
            self._process = subprocess.Popen([sys.executable, "-m", "finews.storage.warc_writer", json.dumps(config)],
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            self._feeder = threading.Thread(target=self._feed, name="finews-warc-feed", daemon=True)
            self._reader = threading.Thread(target=self._read, name="finews-warc-read", daemon=True)
            self._feeder.start()
            self._reader.start()

    def close(self) -> None:
        """Write what is queued, close the file (renamed from .open), stop the writer."""
        if self._process is None:
            return
        self._queue.put(("stop",))
        self._feeder.join()
        try:
            self._process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._reader.join()
        self._process = None

    def sync(self) -> None:
        """Return once every record queued so far is written and fsynced (raises OSError if writing failed)."""
        if self._process is None:
            return
        done = threading.Event()
        token = id(done)
        self._syncs[token] = done
        self._queue.put(("sync", token))
        done.wait()
        if self.failed is not None:
            raise OSError(f"WARC writing failed: {self.failed}")

    def _feed(self) -> None:
        """Pickled jobs to the writer, a batch at a time (blocking writes stay off the reactor). Records gather
        for ``BATCH_SECONDS`` first: a wake-up of this thread and of the reader per record took the GIL from
        the reactor at each of its socket calls (a crawl ran at 0.8x with captures on)."""
        pipe = self._process.stdin
        try:
            while True:
                batch = [self._queue.get()]
                if batch[0][0] == "record":
                    time.sleep(BATCH_SECONDS)
                while True:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                # Pickled whole, then one write: pickling straight into the pipe let go of the GIL and took it
                # back at every chunk, each time against the reactor.
                pipe.write(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))
                pipe.flush()
                if any(message[0] == "stop" for message in batch):
                    break
            pipe.close()
        except OSError as exc:  # the writer died: the reader resolves what waits
            self.failed = self.failed or f"{type(exc).__name__}: {exc}"

    def _read(self) -> None:
        """Where each record went, a batch of answers at a time; a dead writer fails every capture still waiting."""
        pipe = self._process.stdout
        while True:
            try:
                answers = pickle.load(pipe)
            except (EOFError, OSError, pickle.UnpicklingError):
                break
            for message in answers:
                self._answer(message)
        if self._futures or self._syncs:
            self.failed = self.failed or "the capture writer stopped"
        for _where, future in list(self._futures.values()):
            future.set_result(None)
        for event in list(self._syncs.values()):
            event.set()

    def _answer(self, message: tuple) -> None:
        if message[0] == "located":
            _, record_id, file, offset, size = message
            waiting = self._futures.get(record_id)
            if waiting is not None:  # the pointer first, then the future: located() reads them in that order
                where, future = waiting
                if file is not None:
                    where["file"], where["offset"] = file, offset
                    self.bytes += size
                future.set_result(None)
                self._futures.pop(record_id, None)
        elif message[0] == "synced":
            event = self._syncs.pop(message[1], None)
            if message[2]:
                self.failed = message[2]
            if event is not None:
                event.set()
        elif message[0] == "failed":
            if self.failed is None:
                logger.error("Writing WARC captures in %s failed: %s", self.folder, message[1])
            self.failed = message[1]

    # -- what to keep (on the caller's thread: a digest and a lookup) ------------------------------------

    def capture_response(self, url: str, status: int, reason: str, headers: list[tuple[str, str]], body: bytes,
                         method: str = "GET", request_headers: list[tuple[str, str]] | None = None) -> dict[str, Any]:
        """A request and its response; a payload this URL gave before becomes a revisit. The pointer of the
        record holding the payload (the earlier one for a revisit)."""
        digest = payload_digest(body)
        earlier = self._seen.get(url)
        revisit = bool(body) and status != 304 and earlier is not None and earlier.digest == digest
        where, date = self._job("response", url, body, digest, earlier=earlier if revisit else None, status=status,
                                reason=reason, headers=headers, method=method,
                                request_headers=request_headers or [])
        if revisit:
            self.revisits += 1
            return earlier.pointer
        if body and status != 304:
            self._seen[url] = _Seen(digest, date, where)
        return where

    def capture_resource(self, uri: str, body: bytes, content_type: str,
                         headers: dict[str, str] | None = None) -> dict[str, Any]:
        """Content no HTTP exchange of finews' own gave: a local post source, a page Splash rendered."""
        return self._job("resource", uri, body, payload_digest(body), content_type=content_type,
                         extra=dict(headers or {}))[0]

    def _job(self, kind: str, uri: str, body: bytes, digest: str, earlier: _Seen | None = None,
             **details: Any) -> tuple[dict[str, Any], str]:
        record_id = StatusAndHeadersParser.make_warc_id()
        date = datetime_to_iso_date(datetime.now(UTC).replace(tzinfo=None), use_micros=True)
        job = {"kind": kind, "uri": uri, "body": body, "record_id": record_id, "date": date, "digest": digest,
               "status": 200, "reason": "", "headers": [], "method": "GET", "request_headers": [],
               "content_type": "", "extra": {}, "earlier_id": earlier.pointer["record_id"] if earlier else None,
               "earlier_date": earlier.date if earlier else None, **details}
        where = pointer(record_id)
        self._futures[record_id] = (where, Future())
        self._queue.put(("record", job))
        self.records += 2 if kind == "response" else 1
        return where, date

    async def located(self, where: dict[str, Any]) -> dict[str, Any] | None:
        """The pointer with its file and offset, once the writer has written its record (None if it could not)."""
        if where.get("offset") is None:
            waiting = self._futures.get(where["record_id"])
            if waiting is not None:
                await asyncio.wrap_future(waiting[1])
        return where if where.get("offset") is not None else None

    def on_disk(self, pointer: dict[str, Any] | None) -> bool:
        """Whether a capture a journaled article names survived (a killed run's last records may not have)."""
        if not pointer or pointer.get("offset") is None:
            return False
        try:
            with open_capture_file(self.folder, pointer) as handle:
                return os.fstat(handle.fileno()).st_size > pointer["offset"]
        except OSError:
            return False


def payload_digest(body: bytes) -> str:
    digester = Digester("sha1")
    digester.update(body)
    return str(digester)


def recover(path: Path) -> str | None:
    """A file a killed run left open: cut after its last whole record, close it; the log line, or None when a
    live run still writes it."""
    try:
        handle = path.open("r+b")
    except FileNotFoundError:  # its run closed it since the listing
        return None
    with handle:
        if not taken(handle, path):  # a live run holds it, or closed it (and another took it) meanwhile
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


def open_capture_file(folder: str | Path, pointer: dict[str, Any]) -> IO[bytes]:
    """The file a pointer names, opened for reading: closed, or being written (``.open``: a run appending to
    it renames it while it writes). FileNotFoundError when it is neither."""
    path = Path(folder) / pointer["file"]
    for name in (path, path.with_name(path.name + OPEN_SUFFIX), path):  # the renames may race the first two
        try:
            return name.open("rb")
        except FileNotFoundError:
            continue
    raise FileNotFoundError(f"no WARC file {pointer['file']} in {folder}")


def read_record(folder: str | Path, pointer: dict[str, Any]) -> Captured:
    """The record a pointer names (OSError when its file is gone, ValueError when no record is there)."""
    with open_capture_file(folder, pointer) as handle:
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
