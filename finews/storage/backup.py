"""A backup of the archive as MongoDB Extended JSON lines: every collection, document and index.

``mongodump`` is not installable beside finews (no Debian package; PyPI's ``mongoexport`` is
another program), and the embedded store's files are WiredTiger's, readable by SecantusDB only.
Canonical Extended JSON keeps every BSON type as it was (dates, ints against longs,
timestamps), so a restore into the embedded store or any MongoDB gives back equal documents.

Lines: a header ``{"finews_backup": 1, "database", "taken_at", "cursor"}``, then per collection
``{"collection", "indexes": [...]}`` followed by ``{"collection", "document"}`` lines.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from bson import json_util
from bson.json_util import CANONICAL_JSON_OPTIONS, RELAXED_JSON_OPTIONS
from pymongo.errors import BulkWriteError

FORMAT = 1
_BATCH = 500
_INDEX_KEYS_DROPPED = ("v", "ns")  # the server's own bookkeeping: createIndexes sets them


class BackupError(Exception):
    """A backup file finews cannot restore, or a target it must not restore into (one line)."""


def open_backup(path: Path, mode: str, named: Path | None = None) -> IO[str]:
    """The file, gzip-compressed when its name (or the name it will be given) ends in ``.gz``."""
    if (named or path).suffix == ".gz":
        return gzip.open(path, mode + "t", encoding="utf-8")
    return path.open(mode, encoding="utf-8")


def _line(value: dict[str, Any], options: Any = CANONICAL_JSON_OPTIONS) -> str:
    return json_util.dumps(value, json_options=options, ensure_ascii=False) + "\n"


def dump(db: Any, cursor: str | None) -> Iterator[str]:
    """The lines of a backup of ``db``; ``cursor`` is the change feed's position taken before reading."""
    yield _line({"finews_backup": FORMAT, "database": db.name, "taken_at": datetime.now(UTC), "cursor": cursor},
                RELAXED_JSON_OPTIONS)  # for people to read: nothing in it needs its exact BSON type
    for name in sorted(n for n in db.list_collection_names() if not n.startswith("system.")):
        collection = db[name]
        indexes = [{k: v for k, v in index.items() if k not in _INDEX_KEYS_DROPPED}
                   for index in collection.list_indexes() if index["name"] != "_id_"]
        yield _line({"collection": name, "indexes": indexes})
        for document in collection.find().sort("_id", 1):
            yield _line({"collection": name, "document": document})


def load(db: Any, lines: Iterable[str]) -> dict[str, int]:
    """Restore a backup into ``db``, which must hold none of its collections' documents: documents per collection."""
    counts: dict[str, int] = {}
    batch: list[dict[str, Any]] = []
    batch_of = ""
    numbered = enumerate(lines, start=1)
    _header(next(numbered, (1, "")))
    for number, text in numbered:
        entry = _parse(number, text)
        name = entry.get("collection")
        if not isinstance(name, str) or not name or ("indexes" not in entry and "document" not in entry):
            raise BackupError(f"line {number} is neither a collection's indexes nor a document")
        if batch and name != batch_of:
            _insert(db[batch_of], batch)
            batch = []
        if "indexes" in entry:
            if db[name].estimated_document_count():
                raise BackupError(f"the database {db.name!r} already holds {name!r} documents: restore into an "
                                  "empty database (FINEWS_MONGO_DATABASE), or drop it first")
            if entry["indexes"]:
                db.command("createIndexes", name, indexes=entry["indexes"])
            counts.setdefault(name, 0)
            continue
        batch.append(entry["document"])
        batch_of = name
        counts[name] = counts.get(name, 0) + 1
        if len(batch) >= _BATCH:
            _insert(db[name], batch)
            batch = []
    if batch:
        _insert(db[batch_of], batch)
    return counts


def _header(first: tuple[int, str]) -> dict[str, Any]:
    header = _parse(*first)
    if header.get("finews_backup") != FORMAT:
        raise BackupError(f"not a finews backup (format {FORMAT}): its first line is no finews_backup header")
    return header


def _parse(number: int, text: str) -> dict[str, Any]:
    try:
        entry = json_util.loads(text, json_options=CANONICAL_JSON_OPTIONS)
    except ValueError as exc:
        raise BackupError(f"line {number} is not Extended JSON ({str(exc)[:80]})") from None
    if not isinstance(entry, dict):
        raise BackupError(f"line {number} is not a JSON object")
    return entry


def _insert(collection: Any, documents: list[dict[str, Any]]) -> None:
    """Raises BackupError for a document MongoDB refuses (the ones before it stand), PyMongoError when it is down."""
    try:
        collection.insert_many(documents, ordered=True)
    except BulkWriteError as exc:
        first = (exc.details.get("writeErrors") or [{}])[0]
        raise BackupError(f"{collection.name}: MongoDB refused a document (code {first.get('code')}: "
                          f"{str(first.get('errmsg', ''))[:160]})") from None
