"""finews backup / restore: an embedded archive moved into another MongoDB server, every document and index equal."""

from __future__ import annotations

import gzip

from pymongo import MongoClient
from test_operations import finews, finews_env

from finews import outcome
from finews.storage.embedded import EmbeddedServer


def _contents(db) -> dict:
    return {name: (sorted(db[name].find(), key=lambda d: str(d["_id"])), db[name].index_information())
            for name in sorted(db.list_collection_names())}


def test_an_embedded_archive_restored_into_a_mongodb_server_is_equal(replica, mongo, tmp_path):
    env = finews_env(tmp_path, replica.url)  # no MONGO_URI: the embedded store
    crawl = finews("crawl", env=env)
    assert crawl.returncode == outcome.OK, crawl.stderr
    backup = tmp_path / "finews.jsonl.gz"
    made = finews("backup", "--out", str(backup), env=env)
    assert made.returncode == outcome.OK and made.stderr.count("\n") == 1, made.stderr
    header = gzip.open(backup, "rt", encoding="utf-8").readline()
    assert '"finews_backup": 1' in header and '"cursor": "' in header  # the feed's position before the read

    database = mongo.new_database()
    into = finews_env(tmp_path, replica.url, mongo=mongo, database=database)
    restored = finews("restore", str(backup), env=into)
    assert restored.returncode == outcome.OK, restored.stderr
    server = EmbeddedServer(tmp_path / "data" / "mongo")
    try:
        original = MongoClient(server.start(), tz_aware=True).finews
        copy = mongo.db(database)
        before, after = _contents(original), _contents(copy)
        assert before.keys() == after.keys() and {"articles", "crawl_runs", "rejects"} <= before.keys()
        assert original.articles.count_documents({}) > 100
        for name in before:
            assert before[name][0] == after[name][0], name  # every document, every BSON type
            assert before[name][1] == after[name][1], name  # every index, its name, keys and options
    finally:
        server.stop()

    again = finews("restore", str(backup), env=into)  # never over an archive: the target must be empty
    assert again.returncode == outcome.USAGE and again.stderr.count("\n") == 1 and "already holds" in again.stderr


def test_a_file_that_is_no_backup_is_one_line_and_status_2(mongo, tmp_path):
    env = finews_env(tmp_path, "http://127.0.0.1:9/", mongo=mongo)
    cases = {"empty": b"", "text": b"hello\n", "binary": b"\xff\xfe\x00garbage", "list": b"[1, 2]\n",
             "headless": b'{"collection": "articles", "document": {"_id": "x"}}\n',
             "torn": b'{"finews_backup": 1, "database": "finews"}\n{"collection": "articles", "docu\n'}
    for name, content in cases.items():
        path = tmp_path / f"{name}.jsonl"
        path.write_bytes(content)
        run = finews("restore", str(path), env=env)
        assert run.returncode == outcome.USAGE, (name, run.stderr)
        assert run.stderr.count("\n") == 1 and run.stderr.startswith("finews restore: "), (name, run.stderr)
    missing = finews("restore", str(tmp_path / "nowhere.jsonl"), env=env)
    assert missing.returncode == outcome.USAGE and "is not a file" in missing.stderr


def test_a_backup_that_cannot_be_written_is_one_line_and_status_2(mongo, tmp_path):
    env = finews_env(tmp_path, "http://127.0.0.1:9/", mongo)
    (tmp_path / "taken").write_text("a file, not a folder")
    run = finews("backup", "--out", str(tmp_path / "taken" / "backup.jsonl"), env=env)
    assert run.returncode == outcome.USAGE and run.stderr.count("\n") == 1, run.stderr
    assert run.stderr.startswith("finews backup: cannot write ")
