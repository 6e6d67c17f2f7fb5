"""A downstream sync job that follows docs/schema.md word for word, while finews writes in every way it does."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime

import jsonschema
from conftest import FIXTURE_POSTS
from pymongo import MongoClient
from test_operations import finews, finews_env, start_finews

from finews import outcome
from finews.dates import CST
from finews.replica import generate_posts
from finews.schemas import ARTICLE_SCHEMA

BOOKKEEPING = {"seen_count", "last_seen_at", "sightings"}  # what the feed leaves out (docs/schema.md)


class SyncJob(threading.Thread):
    """The job's loop of docs/schema.md: take a cursor with `finews changes`, read the collection in full, then
    every few seconds run `finews changes --since <cursor>`, read each changed article by its _id, save the cursor."""

    def __init__(self, env: dict, uri: str, database: str) -> None:
        super().__init__()
        self.env, self.articles = env, MongoClient(uri, tz_aware=True)[database].articles
        self.copy: dict[str, dict] = {}
        self.delivered: list[tuple[str, str]] = []  # (cursor, _id) of every change line
        self.fields: list[str] = []
        self.stopping = threading.Event()
        self.polls = 0
        self.cursor = self._feed(None)[-1]["cursor"]
        self.copy = {doc["_id"]: doc for doc in self.articles.find()}

    def _feed(self, since: str | None) -> list[dict]:
        run = finews("changes", *(["--since", since] if since else []), env=self.env)
        assert run.returncode == 0, run.stderr
        return [json.loads(line) for line in run.stdout.splitlines()]

    def poll(self) -> None:
        lines = self._feed(self.cursor)
        for change in lines[:-1]:
            self.delivered.append((change["cursor"], change["_id"]))
            self.fields.extend(change["fields"])
            doc = self.articles.find_one({"_id": change["_id"]})
            if doc is None:
                self.copy.pop(change["_id"], None)
            else:
                self.copy[change["_id"]] = doc
        self.cursor = lines[-1]["cursor"]
        self.polls += 1

    def run(self) -> None:
        while not self.stopping.wait(0.5):
            self.poll()


def _without_bookkeeping(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k not in BOOKKEEPING}


def test_a_sync_job_following_the_schema_keeps_an_equal_copy(replica, mongo, tmp_path):
    database = mongo.new_database()
    env = finews_env(tmp_path, replica.url, mongo, database)
    job = SyncJob(env, mongo.uri, database)
    job.start()
    try:
        # Two importers, as two hosts with data folders of their own, write 1,000 new articles at once.
        folders = []
        for name, newest in (("a", datetime(2022, 5, 31, 18, 0, tzinfo=CST)),
                             ("b", datetime(2021, 5, 31, 18, 0, tzinfo=CST))):
            generate_posts(tmp_path / f"posts-{name}", 500, newest=newest)
            folders.append((name, tmp_path / f"posts-{name}"))
        importers = [start_finews("crawl", "posts", "-a", f"path={posts}",
                                  env={**env, "FINEWS_DATA_DIR": str(tmp_path / f"host-{name}"),
                                       "FINEWS_OUTPUT_DIR": str(tmp_path / f"host-{name}"),
                                       "FINEWS_MONGO_BATCH_SIZE": "50"}) for name, posts in folders]
        assert [run.wait(timeout=300) for run in importers] == [0, 0], [run.stderr.read() for run in importers]
        # The site crawl (page times, 8 hours late on the first days' posts), the sources of the same posts
        # (which correct them), then the share pages.
        for args in (("crawl", "-a", "share=0"), ("crawl", "posts", "-a", f"path={FIXTURE_POSTS}"),
                     ("crawl", "share", "-a", "missing=1")):
            run = finews(*args, env=env)
            assert run.returncode == outcome.OK, (args, run.stderr[-2000:])
        time.sleep(1)
    finally:
        job.stopping.set()
        job.join()
    job.poll()  # the job's next run after everything was written

    archive = {doc["_id"]: doc for doc in job.articles.find()}
    assert len(archive) > 1000 + 100  # the fixture corpus holds 121 articles
    missing = archive.keys() - job.copy.keys()
    stale = [code for code, doc in archive.items()
             if code in job.copy and _without_bookkeeping(job.copy[code]) != _without_bookkeeping(doc)]
    cursors = [cursor for cursor, _ in job.delivered]
    assert (len(missing), len(stale), len(job.copy.keys() - archive.keys())) == (0, 0, 0), (missing, stale[:5])
    assert len(cursors) == len(set(cursors))  # no change delivered twice
    assert job.polls > 10  # it read while the writers wrote, not once afterwards
    # The corrections reached the feed, and nothing is left flagged: every article's source was read.
    assert "published_at_maybe_late" in job.fields and "share_status" in job.fields
    assert not any(doc["published_at_maybe_late"] for doc in archive.values())
    print(f"{len(archive)} articles, {len(job.delivered)} changes in {job.polls} polls: 0 missing, 0 stale")


def test_every_stored_article_obeys_the_empty_field_rule(replica, mongo, tmp_path):
    """Every field in every document (the JSON Schema requires each); unknown values null; version known once
    a post source gave the current text; the page times of the first days flagged until a source corrects them."""
    database = mongo.new_database()
    env = finews_env(tmp_path, replica.url, mongo, database)
    assert finews("crawl", "-a", "share=0", env=env).returncode == outcome.OK
    db = MongoClient(mongo.uri, tz_aware=True)[database]
    pages = list(db.articles.find())
    assert {doc["share_status"] for doc in pages} == {None} and {doc["share_attempts"] for doc in pages} == {0}
    early = [doc for doc in pages if doc["published_at_maybe_late"]]
    assert early and all(doc["published_at"] < datetime(2021, 12, 9, 8, tzinfo=CST) for doc in early)
    assert finews("crawl", "posts", "-a", f"path={FIXTURE_POSTS}", env=env).returncode == outcome.OK
    assert finews("crawl", "share", "-a", "missing=1", env=env).returncode == outcome.OK
    stored = list(db.articles.find())
    for doc in stored:
        assert set(doc) >= set(ARTICLE_SCHEMA["required"]), set(ARTICLE_SCHEMA["required"]) - set(doc)
        as_json = json.loads(json.dumps(doc, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v)))
        jsonschema.validate(as_json, ARTICLE_SCHEMA, format_checker=jsonschema.FormatChecker())
        if "post_source" in doc["seen_via"] and doc["via"] in ("post_page", "post_source"):
            assert doc["version"] is not None, doc["_id"]
        assert not doc["published_at_maybe_late"]
        if doc["share_status"] != "failed":
            assert doc["share_error"] is None and doc["share_checked_at"] is None
    corrected = {doc["_id"] for doc in early}
    assert all(db.articles.find_one({"_id": code})["published_at_via"] != "post_page" for code in corrected)
    assert set(ARTICLE_SCHEMA["required"]) == set(ARTICLE_SCHEMA["properties"])  # the rule is the contract's
