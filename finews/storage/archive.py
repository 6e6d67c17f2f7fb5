"""Every MongoDB access of finews: the client from settings, the collections, the indexes, the writes.

Methods here block (pymongo); callers on the reactor thread run them with
``deferToThread``. One ``Archive`` serves a whole crawl (``archive_for``).
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, MongoClient, UpdateOne
from pymongo.errors import BulkWriteError, PyMongoError
from pymongo.write_concern import WriteConcern
from scrapy import signals
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import threads

from finews.dates import iso_cst
from finews.processes import process_alive
from finews.redact import redact_uri
from finews.storage import documents
from finews.storage.embedded import EmbeddedServer

logger = logging.getLogger(__name__)

ARTICLE_INDEXES = [
    IndexModel([("published_at", DESCENDING)], name="published_at_desc"),
    IndexModel([("category", ASCENDING), ("published_at", DESCENDING)], name="category_published_at"),
    IndexModel([("source", ASCENDING), ("published_at", DESCENDING)], name="source_published_at"),
    IndexModel([("stocks.code", ASCENDING), ("published_at", DESCENDING)], name="stocks_code_published_at"),
    IndexModel([("linked_stocks.code", ASCENDING), ("published_at", DESCENDING)],
               name="linked_stocks_code_published_at"),
    IndexModel([("updated_at", ASCENDING)], name="updated_at"),
    IndexModel([("share_status", ASCENDING), ("share_checked_at", DESCENDING)], name="share_status_checked_at"),
    # finews' own queries every run: the freshness monitor's articles first seen within its window, category
    # seeding's recently seen ones.
    IndexModel([("first_seen_at", DESCENDING)], name="first_seen_at_desc"),
    IndexModel([("last_seen_at", DESCENDING)], name="last_seen_at_desc"),
]
REJECT_INDEXES = [IndexModel([("time", DESCENDING)], name="time"),
                  IndexModel([("reason", ASCENDING), ("time", DESCENDING)], name="reason_time")]
# Indexes earlier versions made, each now the prefix of a compound one above (an equality alone admitted a
# share of the whole collection: SecantusDB examined all of it under any limit). Dropped when found with
# exactly these keys; an index of the same name a downstream job made on other keys is not finews' to drop.
RETIRED_INDEXES = {"articles": {"source": {"source": 1}, "stocks_code": {"stocks.code": 1},
                                "share_status": {"share_status": 1}},
                   "rejects": {"reason": {"reason": 1}}}
# Every query finews runs on crawl_runs has its index (tests/test_archive.py explains each): a year of
# records (105,000 at one run every 5 minutes) made `finews status` 6.7 s and the yield monitor 2.8 s a run
# while only spider_started_at existed.
RUN_INDEXES = [
    IndexModel([("spider", ASCENDING), ("started_at", DESCENDING)], name="spider_started_at"),
    IndexModel([("started_at", DESCENDING)], name="started_at_desc"),  # finews status; pruning
    IndexModel([("spider", ASCENDING), ("kind", ASCENDING), ("yardstick", ASCENDING), ("started_at", DESCENDING)],
               name="spider_kind_yardstick_started_at"),  # the yield monitor's comparable runs
    IndexModel([("status", ASCENDING), ("host", ASCENDING)], name="status_host"),  # runs left "running"
]
_archives: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_archives_lock = threading.Lock()


class Archive:
    def __init__(self, uri: str, database: str, *, max_revisions: int = 10, timeout_ms: int = 5000,
                 embedded: EmbeddedServer | None = None, event_listeners: list[Any] | None = None) -> None:
        self.uri = uri
        self.event_listeners = event_listeners or []  # pymongo command monitoring (APM, tests)
        self.database_name = database
        self.max_revisions = max_revisions
        self.timeout_ms = timeout_ms
        self.embedded = embedded
        self.client: MongoClient | None = None
        self._indexes_ready = False
        self._refused: list[dict[str, Any]] = []
        # w: majority on a replica set (a w: 1 write can be rolled back at failover), found at the first checkpoint.
        self.checkpoint_concern: WriteConcern | None = None
        self.fsync_at_checkpoint = False  # a server whose j: true is not on disk (SecantusDB): see checkpoint

    @classmethod
    def from_settings(cls, settings: Any) -> Archive:
        uri = settings.get("MONGO_URI") or ""
        embedded = None
        if not uri:
            embedded = EmbeddedServer(
                Path(settings.get("FINEWS_DATA_DIR")) / "mongo",
                port=settings.getint("FINEWS_EMBEDDED_PORT"),
                binary=settings.get("FINEWS_EMBEDDED_BIN") or None,
                changes_days=settings.getfloat("FINEWS_CHANGES_DAYS"),
                changes_max_entries=settings.getint("FINEWS_CHANGES_MAX_ENTRIES"),
            )
        return cls(
            uri, settings.get("FINEWS_MONGO_DATABASE"),
            max_revisions=settings.getint("FINEWS_MAX_REVISIONS"),
            timeout_ms=settings.getint("FINEWS_MONGO_TIMEOUT_MS"),
            embedded=embedded,
        )

    @property
    def target(self) -> dict[str, Any]:
        """Which archive this is, without connecting and without credentials: what journal segments are for."""
        if self.embedded is not None:
            return {"embedded": str(self.embedded.data_dir.resolve()), "database": self.database_name}
        return {"hosts": _hosts(self.uri), "database": self.database_name}

    # -- connection -------------------------------------------------------------------------

    def open(self, *, indexes: bool = True) -> None:
        """Connect (starting the embedded server first when there is no MONGO_URI) and create indexes.

        A server that does not answer is logged, not raised: writes then wait
        in the journal until it answers. Readers (``indexes=False``) leave indexes to writers.
        """
        if self.client is not None:
            return
        if self.embedded is not None:
            self.uri = self.embedded.start()
            logger.info("No MONGO_URI: archiving into the embedded store in %s (SecantusDB at %s)",
                        self.embedded.data_dir, self.uri)
        else:
            logger.info("Archiving into MongoDB at %s, database %s", redact_uri(self.uri), self.database_name)
        self.client = MongoClient(self.uri, tz_aware=True, serverSelectionTimeoutMS=self.timeout_ms,
                                  connectTimeoutMS=self.timeout_ms, appname="finews",
                                  event_listeners=self.event_listeners)
        if not indexes:
            return
        try:
            self.ensure_indexes()
        except PyMongoError as exc:
            logger.error("MongoDB at %s does not answer (%s): items wait in the journal", redact_uri(self.uri),
                         type(exc).__name__)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.embedded is not None:
            self.embedded.stop()

    @property
    def db(self) -> Any:
        return self.client[self.database_name]

    @property
    def articles(self) -> Any:
        return self.db.articles

    def ensure_indexes(self) -> None:
        """Create the indexes downstream jobs rely on; doing it again changes nothing. An index on the same
        keys under another name (a downstream job's ``createIndex({updated_at: 1})``) serves as well."""
        if self._indexes_ready:
            return
        for collection, indexes in ((self.articles, ARTICLE_INDEXES), (self.db.rejects, REJECT_INDEXES),
                                    (self.db.crawl_runs, RUN_INDEXES)):
            retired = RETIRED_INDEXES.get(collection.name, {})
            have = set()
            for index in collection.list_indexes():
                if retired.get(index["name"]) == dict(index["key"]):
                    collection.drop_index(index["name"])
                else:
                    have.add(tuple(index["key"].items()))
            missing = [index for index in indexes if tuple(index.document["key"].items()) not in have]
            if missing:
                collection.create_indexes(missing)
        self.fill_empty_fields()
        self._indexes_ready = True

    def fill_empty_fields(self) -> None:
        """Once per field and database: the fields documents written before them lack, as the empty-field rule has them
        (documents.ADDED_LATER), so every stored article has every field."""
        flag = "published_at_maybe_late"
        done = set((self.db.meta.find_one({"_id": "empty_fields"}) or {}).get("fields") or [])
        todo = [field for field in [*documents.ADDED_LATER, flag] if field not in done]
        if not todo:
            return
        for field in todo:
            if field == flag:
                self.articles.update_many({flag: {"$exists": False}, "published_at_via": "post_page",
                                           "published_at": {"$lt": documents.EARLY_PAGE_TIMES_END}},
                                          {"$set": {flag: True}})
                self.articles.update_many({flag: {"$exists": False}}, {"$set": {flag: False}})
            else:
                self.articles.update_many({field: {"$exists": False}},
                                          {"$set": {field: documents.ADDED_LATER[field]}})
        self.db.meta.update_one({"_id": "empty_fields"},
                                {"$set": {"at": datetime.now(UTC)}, "$addToSet": {"fields": {"$each": todo}}},
                                upsert=True)

    # -- articles ---------------------------------------------------------------------------

    def write_articles(self, docs: list[dict[str, Any]]) -> Counter:
        """Merge a batch of article documents in; returns how many were new, unchanged, merged, revised
        (an earlier text added to the history counts as revised too).

        Reads the batch's current documents, plans one update each (documents.py),
        writes them as one unordered bulk of upserts, then re-plans the few a
        concurrent writer got to first (an insert that found the document made,
        a revision whose hash had changed: neither applied anything). A statement
        MongoDB refuses for its document (over 16 MiB, say) is not retried: it counts
        as ``rejected`` and ``take_refused()`` hands it out, while the others stand.
        Raises PyMongoError when the server fails.
        """
        self.ensure_indexes()
        outcomes: Counter = Counter()
        for layer in _layers(docs):
            outcomes.update(self._write_layer(layer))
        return outcomes

    def _write_layer(self, pending: dict[str, dict[str, Any]]) -> Counter:
        now = datetime.now(UTC)
        outcomes: Counter = Counter()
        for _attempt in range(5):
            if not pending:
                return outcomes
            current = {d["_id"]: d for d in self.articles.find({"_id": {"$in": list(pending)}},
                                                               documents.LIGHT_PROJECTION)}
            plans: list[tuple[str, str, UpdateOne]] = []
            for code, doc in list(pending.items()):
                try:
                    outcome, op = self._plan(current.get(code), doc, now)
                except documents.TooLarge as exc:  # refused here, before pymongo or MongoDB refuse it
                    self._refused.append(_refusal(pending.pop(code), str(exc), "document_too_large"))
                    outcomes["rejected"] += 1
                    continue
                if op is None:
                    outcomes[outcome] += 1
                    del pending[code]
                else:
                    plans.append((code, outcome, op))
            retry = self._apply(plans, pending, outcomes) if plans else []
            pending = {code: pending[code] for code in retry}
        raise RuntimeError(f"articles kept changing under concurrent writers: {sorted(pending)[:5]}")

    def _plan(self, current: dict[str, Any] | None, doc: dict[str, Any], now: datetime) -> tuple[str, UpdateOne | None]:
        if current is None:
            return "new", documents.plan_new(doc, now)
        outcome, op = documents.plan_existing(current, doc, now, self.max_revisions, full=False)
        if outcome in ("revised", "history"):  # these keep texts: read the whole document for them only
            whole = self.articles.find_one({"_id": doc["_id"]}) or current
            outcome, op = documents.plan_existing(whole, doc, now, self.max_revisions)
        return outcome, op

    def _apply(self, plans: list[tuple[str, str, UpdateOne]], pending: dict, outcomes: Counter) -> list[str]:
        try:
            result = self.articles.bulk_write([op for _, _, op in plans], ordered=False)
            upserted = set((result.upserted_ids or {}).values())
        except BulkWriteError as exc:
            # Unordered: MongoDB applied every statement but these. A write concern error is the server's.
            if exc.details.get("writeConcernErrors") or not exc.details.get("writeErrors"):
                raise
            upserted = {u["_id"] for u in exc.details.get("upserted", [])}
            for error in exc.details["writeErrors"]:
                code = plans[error["index"]][0]
                detail = f"MongoDB error {error.get('code')}: {str(error.get('errmsg'))[:500]}"
                self._refused.append(_refusal(pending.pop(code), detail))
                outcomes["rejected"] += 1
            plans = [plan for plan in plans if plan[0] in pending]
        revised = [code for code, outcome, _ in plans if outcome == "revised"]
        hashes = {}
        if revised:
            hashes = {d["_id"]: d.get("content_hash")
                      for d in self.articles.find({"_id": {"$in": revised}}, {"content_hash": 1})}
        retry: list[str] = []
        for code, outcome, _ in plans:
            if (outcome == "new" and code not in upserted) or (
                outcome == "revised" and hashes.get(code) != pending[code]["content_hash"]
            ):
                retry.append(code)
            else:
                outcomes["revised" if outcome == "history" else outcome] += 1
        return retry

    def take_refused(self) -> list[dict[str, Any]]:
        """The articles MongoDB refused since the last call: (reason, detail, url, raw) for the rejects."""
        refused, self._refused = self._refused, []
        return refused

    def checkpoint(self) -> None:
        """A durability point: once it returns, every write acknowledged before it is on the server's disk (on a
        replica set, on a majority's: no failover rolls it back), and the journal may let go of it.

        MongoDB promises that with a ``j: true`` write. SecantusDB acknowledges ``j: true`` before its log is on
        disk (its --help, --sync-on-commit); it answers the ``fsync`` command, which closes that gap for 7 ms a
        checkpoint where --sync-on-commit slows every write (benchmarks/store.py). MongoDB itself gets no fsync: it
        needs a privilege a crawler's user seldom has, and flushes every data file for a promise j already kept.
        """
        if self.checkpoint_concern is None:
            replica_set = bool(self.client.admin.command("hello").get("setName"))
            self.checkpoint_concern = WriteConcern(w="majority" if replica_set else 1, j=True)
            self.fsync_at_checkpoint = "secantusVersion" in self.client.admin.command("buildInfo")
        self.db.get_collection("meta", write_concern=self.checkpoint_concern).update_one(
            {"_id": "checkpoint"}, {"$set": {"at": datetime.now(UTC)}}, upsert=True
        )
        if self.fsync_at_checkpoint:
            self.client.admin.command("fsync")

    def mark_share_failures(self, failures: list[dict[str, Any]]) -> int:
        """Mark articles whose share page gave nothing (never one already read); returns how many matched."""
        if not failures:
            return 0
        now = datetime.now(UTC)
        ops = [
            UpdateOne(
                {"_id": f["info_code"], "share_status": {"$ne": "ok"}},
                {"$set": {"share_status": "failed", "share_error": f"{f['reason']}: {f['detail']}"[:500],
                          "share_checked_at": now, "schema_version": documents.SCHEMA_VERSION},
                 "$inc": {"share_attempts": 1}},
            )
            for f in failures
        ]
        return self.articles.bulk_write(ops, ordered=False).matched_count

    def missing_share(self, limit: int = 0) -> list[tuple[str, str | None, dict[str, Any]]]:
        """(info code, share link, title and date) of articles whose share page is not read yet: digests,
        failures, never tried."""
        query = {"share_status": {"$ne": "ok"}, "$or": [{"body_kind": "digest"}, {"share_url": {"$ne": None}}]}
        cursor = self.articles.find(query, _SHARE_FIELDS).sort("published_at", -1).limit(limit)
        return [_share_target(d) for d in cursor]

    def captured_articles(self, since: datetime | None = None, until: datetime | None = None,
                          category: str | None = None) -> list[dict[str, Any]]:
        """The articles whose current text has a capture (what ``finews reparse`` re-derives), oldest first."""
        query: dict[str, Any] = {"capture": {"$ne": None}}
        if since or until:
            query["published_at"] = {**({"$gte": since} if since else {}), **({"$lt": until} if until else {})}
        if category:
            query["category"] = category
        fields = {"via": 1, "capture": 1, "category": 1, "title": 1, "published_at": 1, "share_url": 1}
        return list(self.articles.find(query, fields).sort("published_at", 1))

    def share_targets(self, codes: list[str]) -> dict[str, tuple[str, str | None, dict[str, Any]]]:
        """What the archive has of these info codes for their share pages, as ``missing_share`` gives it."""
        return {d["_id"]: _share_target(d) for d in self.articles.find({"_id": {"$in": codes}}, _SHARE_FIELDS)}

    def known_codes(self, codes: list[str]) -> set[str]:
        """Which of these info codes the archive has (one query, for one listing page's posts)."""
        if not codes:
            return set()
        return {d["_id"] for d in self.articles.find({"_id": {"$in": codes}}, {"_id": 1})}

    def recent_categories(self, days: float) -> list[str]:
        """Categories of articles seen in the last ``days``: their pages are worth a look every run."""
        since = datetime.now(UTC) - timedelta(days=days)
        return sorted(c for c in self.articles.distinct("category", {"last_seen_at": {"$gte": since}}) if c)

    # -- listings, rejects, runs ------------------------------------------------------------

    def listing_validators(self) -> dict[str, dict[str, str]]:
        """ETag / Last-Modified of every listing page as the last finished run saw it."""
        return {
            d["_id"]: {"etag": d.get("etag"), "last_modified": d.get("last_modified")}
            for d in self.db.listings.find({}, {"etag": 1, "last_modified": 1})
        }

    def save_listing_validators(self, validators: dict[str, dict[str, str | None]]) -> None:
        if not validators:
            return
        now = datetime.now(UTC)
        self.db.listings.bulk_write(
            [UpdateOne({"_id": url}, {"$set": {**v, "checked_at": now}}, upsert=True) for url, v in validators.items()],
            ordered=False,
        )

    def add_rejects(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Insert reject records; returns those MongoDB refused (the others stand). Raises PyMongoError when the
        server fails."""
        if not records:
            return []
        try:
            self.db.rejects.insert_many(records, ordered=False)
        except BulkWriteError as exc:
            if exc.details.get("writeConcernErrors") or not exc.details.get("writeErrors"):
                raise
            return [records[error["index"]] for error in exc.details["writeErrors"]]
        return []

    def start_run(self, record: dict[str, Any]) -> Any:
        self._close_dead_runs(record["host"])
        return self.db.crawl_runs.insert_one(record).inserted_id

    def _close_dead_runs(self, host: str) -> None:
        """Runs of this host still "running" whose process is gone (killed, power cut) are closed as "killed"."""
        for run in self.db.crawl_runs.find(running_on(host), {"pid": 1}):
            if not process_alive(run.get("pid")):
                self.db.crawl_runs.update_one({"_id": run["_id"], "status": "running"}, {"$set": {
                    "status": "killed", "finish_reason": "killed", "finished_at": None}})

    def finish_run(self, run_id: Any, fields: dict[str, Any]) -> None:
        self.db.crawl_runs.update_one({"_id": run_id}, {"$set": fields})

    def prune_runs(self, keep_days: float) -> int:
        """Delete run records started over ``keep_days`` ago (FINEWS_RUNS_KEEP_DAYS); how many went."""
        cutoff = datetime.now(UTC) - timedelta(days=keep_days)
        return self.db.crawl_runs.delete_many(started_before(cutoff)).deleted_count

    def recent_runs(self, limit: int, horizon_days: float) -> list[dict[str, Any]]:
        """The latest runs, newest first (``finews status``)."""
        return self.latest_runs({}, limit, horizon_days)

    def comparable_runs(self, spider: str, kind: str | None, limit: int, horizon_days: float,
                        projection: dict[str, int]) -> list[dict[str, Any]]:
        """The latest runs of one spider and kind that ended 0 with inputs, newest first (the yield monitor's
        yardstick). ``yardstick`` is an equality the index serves: most cron runs have no input, and a filter on
        the inputs stat would examine every one of them."""
        return self.latest_runs(comparable(spider, kind), limit, horizon_days, projection)

    def latest_runs(self, query: dict[str, Any], limit: int, horizon_days: float,
                    projection: dict[str, int] | None = None) -> list[dict[str, Any]]:
        """Up to ``limit`` runs matching ``query``, newest first, looked for in windows of the last hour, four,
        sixteen, … up to ``horizon_days``: an index serves a sort with a limit, yet SecantusDB examines every
        record the filter admits (shared notes, mongodb.md), so only a bounded range keeps a year of records
        from costing a year's scan."""
        now = datetime.now(UTC)
        span, horizon = timedelta(hours=1), timedelta(days=horizon_days)
        while True:
            span = min(span, horizon)
            found = list(self.runs_since(query, now - span, projection).limit(limit))
            if len(found) >= limit or span >= horizon:
                return found
            span *= 4

    def runs_since(self, query: dict[str, Any], since: datetime, projection: dict[str, int] | None = None) -> Any:
        """The runs matching ``query`` started from ``since`` on, newest first (the one form of every
        latest-runs query: tests/test_archive.py explains it)."""
        return self.db.crawl_runs.find({**query, "started_at": {"$gte": since}}, projection).sort(
            "started_at", DESCENDING)


def comparable(spider: str, kind: str | None) -> dict[str, Any]:
    return {"spider": spider, "kind": kind, "yardstick": True}


def running_on(host: str) -> dict[str, Any]:
    return {"status": "running", "host": host}


def started_before(moment: datetime) -> dict[str, Any]:
    return {"started_at": {"$lt": moment}}


def _layers(docs: list[dict[str, Any]]) -> list[dict[str, dict[str, Any]]]:
    """The batch as rounds with one document per code each: the second sighting of a code in a batch
    is merged only after the first (the merge rule sees every version, in order)."""
    layers: list[dict[str, dict[str, Any]]] = []
    for doc in docs:
        layer = next((layer for layer in layers if doc["_id"] not in layer), None)
        if layer is None:
            layer = {}
            layers.append(layer)
        layer[doc["_id"]] = doc
    return layers


_SHARE_FIELDS = {"share_url": 1, "title": 1, "published_at": 1}


def _refusal(doc: dict[str, Any], detail: str, reason: str = "store_rejected") -> dict[str, Any]:
    """A reject for a document that cannot be stored: why, and what identifies the article, cut short (the
    document itself may be what was too large: a title of 52 MB has been seen)."""
    raw = {key: _cut(doc.get(key)) for key in ("info_code", "title", "url", "via", "body_length")}
    raw["published_at"] = str(doc.get("published_at"))
    return {"reason": reason, "detail": detail, "url": _cut(doc.get("url")), "raw": raw}


def _cut(value: Any, chars: int = 1000) -> Any:
    return value[:chars] if isinstance(value, str) else value


def _hosts(uri: str) -> list[str]:
    """The host list of a MongoDB URI as written (no DNS lookup for mongodb+srv), sorted, without credentials."""
    scheme, _, rest = uri.partition("://")
    hosts = rest.split("/", 1)[0].split("?", 1)[0].rpartition("@")[2]
    return [("srv:" if scheme.endswith("+srv") else "") + host for host in sorted(hosts.split(",")) if host]


def _share_target(doc: dict[str, Any]) -> tuple[str, str | None, dict[str, Any]]:
    published = doc.get("published_at")
    post = {"title": doc.get("title"), "published_at": iso_cst(published) if published else None}
    return doc["_id"], doc.get("share_url"), post


def archive_for(crawler: Any) -> Archive | None:
    """The crawl's one Archive, made from its settings on first use; None when storing is off."""
    if not crawler.settings.getbool("FINEWS_STORE"):
        return None
    with _archives_lock:
        archive = _archives.get(crawler)
        if archive is None:
            archive = _archives[crawler] = Archive.from_settings(crawler.settings)
            # Closed last, once pipelines and extensions have written their last records.
            async def close() -> None:
                await maybe_deferred_to_future(threads.deferToThread(archive.close))

            crawler.signals.connect(close, signal=signals.engine_stopped, weak=False)
        return archive
