"""The archive against a real server process over TCP (SecantusDB, or FINEWS_TEST_MONGO_URI)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest
from bson import ObjectId
from conftest import FIXTURE_POSTS, ROOT

from finews.dates import CST
from finews.items import Article
from finews.normalize import normalize_article
from finews.parsing.source import article_from_source, read_source
from finews.schemas import ARTICLE_SCHEMA, ITEM_SCHEMA
from finews.storage.archive import Archive, redact_uri
from finews.storage.documents import to_document

SCHEMA = ARTICLE_SCHEMA  # as the package ships it


def article(name: str, folder: str = "_posts", **changes):
    path = FIXTURE_POSTS / folder / name
    normalized = normalize_article(article_from_source(read_source(path.read_bytes(), path.name)))
    return dataclasses.asdict(dataclasses.replace(normalized, **changes))


def changed_text(doc: dict, text: str) -> Article:
    """The article with a new first paragraph (as long as before: not a summary of it)."""
    body = f"<p>{text}</p>{doc['body_html']}"
    return normalize_article(dataclasses.replace(_as_article(doc), body_html=body))


def _as_article(doc: dict) -> Article:
    return Article(**doc)


@pytest.fixture
def archive(mongo):
    store = Archive(mongo.uri, mongo.new_database(), max_revisions=3)
    store.open()
    yield store
    store.close()


MEDIA = "2022-04-01-NW202204012331570959.md"
EARLY = "2021-12-08-202112082206672930.md"


def test_new_then_unchanged_writes_no_content(archive):
    doc = to_document(article(MEDIA, "old_post"))
    assert archive.write_articles([doc]) == {"new": 1}
    first = archive.articles.find_one({"_id": doc["_id"]})
    assert archive.write_articles([to_document(article(MEDIA, "old_post"))]) == {"unchanged": 1}
    second = archive.articles.find_one({"_id": doc["_id"]})
    assert second["seen_count"] == 2 and first["seen_count"] == 1
    assert second["updated_at"] == first["updated_at"] == first["first_seen_at"]
    assert second["last_seen_at"] >= first["last_seen_at"]
    assert {k: v for k, v in second.items() if k not in ("seen_count", "last_seen_at")} == {
        k: v for k, v in first.items() if k not in ("seen_count", "last_seen_at")
    }


def test_changed_content_is_a_revision_newest_first_and_bounded(archive):
    base = article(MEDIA, "old_post")
    archive.write_articles([to_document(base)])
    hashes = [base["content_hash"]]
    for number in range(5):
        version = dataclasses.asdict(changed_text(base, f"第{number}版。"))
        assert archive.write_articles([to_document(version)]) == {"revised": 1}
        hashes.append(version["content_hash"])
    stored = archive.articles.find_one({"_id": base["info_code"]})
    assert stored["content_hash"] == hashes[-1]
    assert [r["content_hash"] for r in stored["revisions"]] == hashes[-2:-5:-1]  # 3 kept, newest first
    assert stored["revisions"][-1]["body_text"] != stored["body_text"]
    assert stored["updated_at"] > stored["first_seen_at"]


def test_a_digest_never_replaces_a_full_body(archive):
    full = article(MEDIA, "old_post")
    archive.write_articles([to_document(full)])
    digest = dataclasses.asdict(dataclasses.replace(_as_article(full), body_html="<p>摘要一句。</p>"))
    digest = dataclasses.asdict(normalize_article(_as_article(digest)))
    assert to_document(digest)["body_kind"] == "digest"
    assert archive.write_articles([to_document(digest)]) == {"unchanged": 1}
    assert archive.articles.find_one({"_id": full["info_code"]})["body_text"] == full["body_text"]


def test_full_body_from_the_share_page_replaces_a_digest_and_stays(archive):
    digest = article(EARLY)
    archive.write_articles([to_document(digest)])
    shared = dataclasses.asdict(changed_text(digest, "分享页全文。"))
    shared["via"] = "share_api"
    assert archive.write_articles([to_document(shared)]) == {"revised": 1}
    page_again = article(EARLY, via="post_page")
    archive.write_articles([to_document(page_again)])
    stored = archive.articles.find_one({"_id": digest["info_code"]})
    assert stored["via"] == "share_api" and stored["body_text"].startswith("分享页全文")
    assert stored["revisions"][0]["body_kind"] == "digest"


def test_published_at_from_the_source_beats_the_page(archive):
    source = article(EARLY, via="post_source")
    page = dict(source, via="post_page", published_at="2021-12-08T18:46:18+08:00")  # Jekyll's UTC misreading
    archive.write_articles([to_document(page)])
    assert archive.articles.find_one({"_id": page["info_code"]})["published_at"].hour == 10  # 18:46 +08 = 10:46Z
    assert archive.write_articles([to_document(source)]) == {"merged": 1}
    stored = archive.articles.find_one({"_id": page["info_code"]})
    assert stored["published_at"] == datetime.fromisoformat("2021-12-08T10:46:18+08:00")
    assert stored["published_at_via"] == "post_source"
    archive.write_articles([to_document(page)])
    assert archive.articles.find_one({"_id": page["info_code"]})["published_at_via"] == "post_source"


def test_missing_fields_are_filled_by_later_sightings(archive):
    bare = article(MEDIA, "old_post", share_url=None, category=None)
    bare_doc = to_document(bare)
    bare_doc["share_url"] = None
    archive.write_articles([bare_doc])
    assert archive.write_articles([to_document(article(MEDIA, "old_post"))]) == {"merged": 1}
    stored = archive.articles.find_one({"_id": bare["info_code"]})
    assert stored["share_url"].endswith("infoCode=NW202204012331570959") and stored["category"] == "huaxiashibao"


def test_indexes_are_created_once_and_present(archive):
    archive._indexes_ready = False
    archive.ensure_indexes()
    names = {index["name"] for index in archive.articles.list_indexes()}
    assert {"published_at_desc", "category_published_at", "source_published_at", "stocks_code_published_at",
            "updated_at"} <= names
    assert {i["name"] for i in archive.db.crawl_runs.list_indexes()} >= {
        "spider_started_at", "started_at_desc", "spider_kind_yardstick_started_at", "status_host"}


def test_known_codes_and_listing_validators(archive):
    archive.write_articles([to_document(article(MEDIA, "old_post"))])
    assert archive.known_codes(["NW202204012331570959", "NW1"]) == {"NW202204012331570959"}
    archive.save_listing_validators({"http://h/": {"etag": '"x"', "last_modified": None}})
    archive.save_listing_validators({"http://h/": {"etag": '"y"', "last_modified": "Mon"}})
    assert archive.listing_validators() == {"http://h/": {"etag": '"y"', "last_modified": "Mon"}}


def test_concurrent_processes_give_one_document_each(archive, tmp_path):
    docs = [to_document(article(p.name)) for p in sorted((FIXTURE_POSTS / "_posts").glob("2021-12-08-*.md"))[:40]]
    (tmp_path / "docs.json").write_text(json.dumps(docs, default=str), encoding="utf-8")
    script = (
        "import json,sys; from finews.storage.archive import Archive; from finews.dates import parse_post_date\n"
        "docs=json.load(open(sys.argv[3])); [d.update(published_at=parse_post_date(d['published_at'])) for d in docs]\n"
        "a=Archive(sys.argv[1], sys.argv[2]); a.open(); print(dict(a.write_articles(docs))); a.close()\n"
    )
    command = [sys.executable, "-c", script, archive.uri, archive.database_name, str(tmp_path / "docs.json")]
    writers = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [w.communicate(timeout=120)[0] for w in writers]
    assert all(w.returncode == 0 for w in writers), outputs
    assert archive.articles.count_documents({}) == 40
    assert {d["seen_count"] for d in archive.articles.find({}, {"seen_count": 1})} == {2}


def test_stored_documents_follow_the_json_schema(archive):
    # With sighting ids, as the store pipeline gives them.
    docs = [dict(to_document(article(p.name, p.parent.name)), sighting=str(ObjectId()))
            for p in sorted(FIXTURE_POSTS.glob("*/2022-*.md"))]
    archive.write_articles(docs)
    archive.write_articles([to_document(dataclasses.asdict(changed_text(article(MEDIA, "old_post"), "改")))])
    stored = list(archive.articles.find())
    assert len(stored) == len({d["_id"] for d in docs})
    for document in stored:
        jsonschema.validate(json.loads(json.dumps(document, default=_json_default)), SCHEMA,
                            format_checker=jsonschema.FormatChecker())
    broken = json.loads(json.dumps(stored[0], default=_json_default))
    del broken["content_hash"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)


def _json_default(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, ObjectId):
        return str(value)
    raise TypeError(type(value))


def test_passwords_never_show():
    assert redact_uri("mongodb://user:s3cret@db.example:27017/x?authSource=admin") == (
        "mongodb://user:***@db.example:27017/x?authSource=admin"
    )
    assert redact_uri("mongodb://127.0.0.1:27017/") == "mongodb://127.0.0.1:27017/"


def test_schema_document_names_every_schema_field():
    text = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    for name in SCHEMA["properties"]:
        assert f"`{name}`" in text, name
    assert Path(ROOT / "finews" / "schemas" / "article.schema.json").exists()


def test_item_schema_agrees_with_the_document_schema():
    """Spidermon validates items with item.schema.json; a field both schemas have is defined the same way."""
    item = ITEM_SCHEMA
    fields = {f.name for f in dataclasses.fields(Article)}
    assert set(item["properties"]) == fields
    document = SCHEMA["properties"]
    for name in ("info_code", "aliases", "title", "category", "source", "tags", "url", "share_url", "origin_url",
                 "summary", "body_html", "body_text", "images", "content_hash", "version"):
        assert item["properties"][name] == document[name], name


# -- crawl_runs: bounded, and every query finews runs on it served by an index ---------------------------


def _a_year_of_runs(archive, count: int) -> datetime:
    """``count`` finished run records, one every 5 minutes up to now, of three spiders and their kinds (most of
    them incremental runs with nothing to do, as cron's are); the oldest start is returned."""
    from datetime import UTC, timedelta  # noqa: PLC0415

    now = datetime.now(UTC)
    kinds = {"finews": ("incremental", "refresh"), "posts": ("import",), "share": ("missing", "codes")}
    records = []
    for n in range(count):
        spider = ("finews", "finews", "finews", "posts", "share")[n % 5]
        kind = kinds[spider][n % len(kinds[spider])]
        inputs = 0 if n % 7 else 25
        records.append({"spider": spider, "kind": kind, "started_at": now - timedelta(minutes=5 * (count - n)),
                        "status": "finished", "host": "elsewhere", "pid": 1, "exit_status": 0,
                        "yardstick": inputs > 0, "stats": {"finews/inputs": inputs, "item_scraped_count": inputs}})
    archive.db.crawl_runs.insert_many(records)
    return records[0]["started_at"]


def _plan(cursor) -> tuple[str, int, int]:
    explained = cursor.explain()
    stats = explained.get("executionStats", {})
    return str(explained["queryPlanner"]["winningPlan"]), stats.get("totalDocsExamined"), stats.get("nReturned")


def test_every_run_record_query_uses_its_index(archive):
    """A year of records made `finews status` 6.7 s (its sort had no index) and the yield monitor 2.8 s a run
    (it examined every run of the spider, most with nothing to compare). Each query finews runs on crawl_runs
    is the archive's own method or filter; each is explained here on 5,000 records."""
    from datetime import UTC, timedelta  # noqa: PLC0415

    from finews.storage.archive import comparable, running_on, started_before  # noqa: PLC0415

    _a_year_of_runs(archive, 5000)
    archive.db.crawl_runs.insert_one({"spider": "finews", "status": "running", "host": "here",
                                      "started_at": datetime.now(UTC)})
    now = datetime.now(UTC)
    # SecantusDB examines every record a filter admits, limit or not: each form admits about what it needs.
    queries = {
        "started_at_desc": (archive.runs_since({}, now - timedelta(hours=1)).limit(10), 13),
        "spider_kind_yardstick_started_at": (
            archive.runs_since(comparable("finews", "incremental"), now - timedelta(days=4)).limit(10), 50),
        "status_host": (archive.db.crawl_runs.find(running_on("here")), 1),
        "started_at_desc ": (archive.db.crawl_runs.find(started_before(now - timedelta(days=10))),
                             5000 - 10 * 24 * 12 + 1),
    }
    for index, (cursor, admitted) in queries.items():
        plan, examined, n = _plan(cursor)
        assert "IXSCAN" in plan and f"'{index.strip()}'" in plan, (index, plan)
        assert n <= admitted and examined is not None and examined <= n + 2, (index, examined, n)
    # The latest-runs queries widen their window until they have enough: the newest, whatever the horizon.
    newest = [r["started_at"] for r in archive.db.crawl_runs.find().sort("started_at", -1).limit(10)]
    assert [r["started_at"] for r in archive.recent_runs(10, 90)] == newest
    yardsticks = archive.comparable_runs("finews", "incremental", 10, 90, {"started_at": 1})
    assert len(yardsticks) == 10 and all(r["started_at"] <= newest[0] for r in yardsticks)
    assert len(archive.comparable_runs("finews", "incremental", 10, 0.1, {"started_at": 1})) < 10  # the horizon


def test_old_run_records_are_deleted_at_the_end_of_a_run(mongo, tmp_path):
    """crawl_runs grew by a record every cron run, for ever: now a run deletes those older than
    FINEWS_RUNS_KEEP_DAYS as it ends, and keeps the rest and its own."""
    from datetime import UTC, timedelta  # noqa: PLC0415

    from conftest import run_crawl  # noqa: PLC0415

    database = mongo.new_database()
    store = Archive(mongo.uri, database)
    store.open()
    try:
        oldest = _a_year_of_runs(store, 3000)  # about 10.4 days of runs
    finally:
        store.close()
    source = tmp_path / "src" / "_posts"
    source.mkdir(parents=True)
    (source / "2022-05-31-NW202205310000000001.md").write_text("---\ntitle: t\n", encoding="utf-8")
    run = run_crawl("http://unused.invalid/", tmp_path / "out", "-a", f"path={source.parent}", "-s",
                    "FINEWS_RUNS_KEEP_DAYS=7", spider="posts", mongo=mongo, database=database)
    assert "crawl_runs: " in run.log and "older than FINEWS_RUNS_KEEP_DAYS" in run.log, run.log[-2000:]
    runs = mongo.db(database).crawl_runs
    cutoff = datetime.now(UTC) - timedelta(days=7)
    assert runs.count_documents({"started_at": {"$lt": cutoff}}) == 0
    kept = runs.count_documents({})
    assert 7 * 24 * 12 - 5 <= kept <= 7 * 24 * 12 + 5 and runs.count_documents({"spider": "posts", "host": {
        "$ne": "elsewhere"}}) == 1
    assert oldest < cutoff


def test_a_checkpoint_ends_at_a_durability_point_the_server_promises(mongo):
    """The store pipeline deletes a journal segment once ``checkpoint`` returns. SecantusDB acknowledges
    ``j: true`` before the write is on disk (its --help: --sync-on-commit "closes the writeConcern j:true
    durability gap"), so there a checkpoint must end with the ``fsync`` command it answers; before, a power cut
    could lose a batch whose segment was already gone."""
    from pymongo import monitoring  # noqa: PLC0415

    class Commands(monitoring.CommandListener):
        def __init__(self) -> None:
            self.names: list[str] = []

        def started(self, event) -> None:
            self.names.append(event.command_name)

        def succeeded(self, event) -> None:
            pass

        def failed(self, event) -> None:
            pass

    commands = Commands()
    store = Archive(mongo.uri, mongo.new_database(), event_listeners=[commands])
    store.open()
    try:
        store.write_articles([to_document(article(MEDIA, "old_post"))])
        secantus = "secantusVersion" in store.client.admin.command("buildInfo")
        del commands.names[:]
        store.checkpoint()
        store.checkpoint()
    finally:
        store.close()
    journaled = [name for name in commands.names if name in ("update", "fsync")]
    assert journaled == (["update", "fsync"] * 2 if secantus else ["update"] * 2), commands.names


def test_documents_written_before_the_empty_field_rule_get_its_fields_once(mongo):
    database = mongo.new_database()
    old = to_document(article(EARLY, via="post_source"))
    page = dict(to_document(dict(article(MEDIA, "old_post"), via="post_page")), _id="NW202112082206000001",
                published_at=datetime(2021, 12, 8, 18, 46, tzinfo=CST), published_at_via="post_page")
    legacy = ("share_status", "share_fetched_at", "share_error", "share_checked_at", "share_attempts", "linked_stocks",
              "published_at_maybe_late")
    raw = mongo.db(database).articles
    raw.insert_many([{k: v for k, v in doc.items() if k not in legacy} for doc in (old, page)])
    store = Archive(mongo.uri, database)
    store.open()
    try:
        store.ensure_indexes()
        filled = {doc["_id"]: doc for doc in raw.find()}
        assert filled[old["_id"]]["share_status"] is None and filled[old["_id"]]["share_attempts"] == 0
        assert filled[old["_id"]]["linked_stocks"] is None  # not parsed yet: null, not []
        assert filled[old["_id"]]["published_at_maybe_late"] is False  # its time came from its source
        assert filled[page["_id"]]["published_at_maybe_late"] is True
        assert mongo.db(database).meta.find_one({"_id": "empty_fields"})
        raw.insert_one({k: v for k, v in dict(old, _id="NW202112082206000002").items() if k not in legacy})
        second = Archive(mongo.uri, database)
        second.open()
        second.close()
        assert "share_status" not in raw.find_one({"_id": "NW202112082206000002"})  # once per database, not per run
    finally:
        store.close()


def test_indexes_the_compound_ones_replace_are_dropped_and_a_readers_own_kept(mongo):
    database = mongo.new_database()
    articles, rejects = mongo.db(database).articles, mongo.db(database).rejects
    articles.create_index("source", name="source")  # as finews made it before
    articles.create_index("stocks.code", name="stocks_code")
    rejects.create_index("reason", name="reason")
    articles.create_index([("share_status", 1), ("title", 1)], name="share_status")  # a reader's, same name
    store = Archive(mongo.uri, database)
    store.open()
    store.close()
    names = {index["name"] for index in articles.list_indexes()}
    assert {"source_published_at", "stocks_code_published_at", "share_status"} <= names
    assert not {"source", "stocks_code"} & names
    assert {index["name"] for index in rejects.list_indexes()} == {"_id_", "time", "reason_time"}
