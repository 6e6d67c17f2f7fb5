"""The archive under a real MongoDB's rules (shared notes/mongodb.md), against the real server process."""

from __future__ import annotations

import re

from conftest import run_crawl

from finews.replica import generate_posts


def test_a_document_mongodb_refuses_is_rejected_and_the_rest_archived(mongo, tmp_path):
    """One article over 16 MiB once stored (body_html and body_text both hold its 3,000,000 characters): MongoDB
    refuses that statement of the unordered bulk (code 17420 for an upsert) and applies the others. That document
    becomes a reject with MongoDB's code and message; the rest are archived, nothing is replayed, the run ends 0."""
    posts = tmp_path / "posts"
    paths = generate_posts(posts, 200)
    huge = paths[5]
    huge.write_text(huge.read_text(encoding="utf-8") + "\n\n" + "长" * 3_000_000 + "\n", encoding="utf-8")
    result = run_crawl("http://127.0.0.1:9/", tmp_path / "out", "-a", f"path={posts}", "-s",
                       "FINEWS_MAX_BODY_CHARS=4000000", spider="posts", mongo=mongo, timeout=600)
    db = mongo.db(result.database)
    assert result.returncode == 0, result.log[-3000:]
    assert db.articles.count_documents({}) == 199
    rejects = list(db.rejects.find({}, {"_id": 0}))
    assert [r["reason"] for r in rejects] == ["store_rejected"], rejects
    # 10334 (BSONObjectTooLarge) for an insert or update, 17420 for an upsert's new document: MongoDB's own words.
    assert re.match(r"MongoDB error (10334|17420): .*16777216", rejects[0]["detail"]), rejects[0]["detail"]
    assert rejects[0]["raw"]["info_code"] not in db.articles.distinct("_id")
    assert result.stat("finews/store/write_failed") == 0
    assert result.stat("finews/articles/new") == 199
    assert "Replayed" not in result.log and "MongoDB write failed" not in result.log
    assert not list((tmp_path / "out" / "data" / "journal").glob("*.jsonl*")), "no segment waits for a replay"


def test_write_articles_refuses_one_document_and_keeps_the_others(mongo):
    from test_archive import EARLY, MEDIA, article  # noqa: PLC0415

    from finews.storage.archive import Archive  # noqa: PLC0415
    from finews.storage.documents import to_document  # noqa: PLC0415

    archive = Archive(mongo.uri, mongo.new_database())
    archive.open()
    try:
        huge = to_document(article(EARLY, body_text="长" * 6_000_000))  # 18 MB of UTF-8
        assert archive.write_articles([to_document(article(MEDIA, "old_post")), huge]) == {"new": 1, "rejected": 1}
        refused = archive.take_refused()
        assert [(r["reason"], r["raw"]["info_code"]) for r in refused] == [("store_rejected", huge["info_code"])]
        assert archive.take_refused() == []  # handed out once
        assert archive.articles.count_documents({}) == 1
        assert archive.write_articles([to_document(article(MEDIA, "old_post"))]) == {"unchanged": 1}  # nothing retried
    finally:
        archive.close()


def test_an_equivalent_index_under_another_name_does_not_block_writes(mongo):
    """A downstream job's createIndex({updated_at: 1}) (named updated_at_1) made create_indexes fail with code 85
    before every batch, and every batch then waited for a database that was up."""
    from test_archive import MEDIA, article  # noqa: PLC0415

    from finews.storage.archive import Archive  # noqa: PLC0415
    from finews.storage.documents import to_document  # noqa: PLC0415

    database = mongo.new_database()
    mongo.db(database).articles.create_index("updated_at")
    mongo.db(database).rejects.create_index([("reason", 1)], name="by_reason")
    archive = Archive(mongo.uri, database)
    archive.open()
    try:
        assert archive.write_articles([to_document(article(MEDIA, "old_post"))]) == {"new": 1}
    finally:
        archive.close()
    names = {index["name"] for index in mongo.db(database).articles.list_indexes()}
    assert "updated_at_1" in names and "updated_at" not in names  # theirs serves; no second index on the same key
    assert "published_at_desc" in names  # and finews' others are there


def test_the_queries_finews_runs_every_run_use_an_index(mongo):
    """The freshness monitor's newest article and category seeding's recent articles (item 11)."""
    from datetime import UTC, datetime  # noqa: PLC0415

    from test_archive import MEDIA, article  # noqa: PLC0415

    from finews.storage.archive import Archive  # noqa: PLC0415
    from finews.storage.documents import to_document  # noqa: PLC0415

    archive = Archive(mongo.uri, mongo.new_database())
    archive.open()
    try:
        archive.write_articles([to_document(article(MEDIA, "old_post"))])
        newest = archive.articles.find({}, {"first_seen_at": 1}).sort("first_seen_at", -1).limit(1)
        recent = archive.articles.find({"last_seen_at": {"$gte": datetime(2020, 1, 1, tzinfo=UTC)}}, {"category": 1})
        for cursor, index in ((newest, "first_seen_at_desc"), (recent, "last_seen_at_desc")):
            plan = str(cursor.explain()["queryPlanner"]["winningPlan"])
            assert "IXSCAN" in plan and index in plan, plan
    finally:
        archive.close()
