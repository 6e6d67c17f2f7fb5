"""The archive under a real MongoDB's rules (shared notes/mongodb.md), against the real server process."""

from __future__ import annotations

import re

from conftest import ROOT, run_crawl

from finews.replica import generate_posts


def _same_title(first, second) -> None:
    """Give ``second`` the title of ``first`` (post sources as generate_posts writes them)."""
    title = re.search(r'^title: .*$', first.read_text(encoding="utf-8"), re.M).group(0)
    second.write_text(re.sub(r'^title: .*$', title, second.read_text(encoding="utf-8"), count=1, flags=re.M),
                      encoding="utf-8")


def test_a_document_mongodb_refuses_is_rejected_and_the_rest_archived(mongo, tmp_path):
    """A downstream job made titles unique; two posts share one. MongoDB refuses that statement of the unordered
    bulk (E11000) and applies the others: the document becomes a reject with MongoDB's code and message, the rest
    are archived, nothing is replayed, the run ends 0. (Before, the BulkWriteError was taken for "database down":
    the segment was replayed every 2 s, forever, and every later segment waited behind it.)"""
    posts = tmp_path / "posts"
    paths = generate_posts(posts, 200)
    _same_title(paths[5], paths[6])
    database = mongo.new_database()
    mongo.db(database).articles.create_index("title", unique=True, name="title_unique")
    result = run_crawl("http://127.0.0.1:9/", tmp_path / "out", "-a", f"path={posts}", spider="posts", mongo=mongo,
                       database=database, timeout=600)
    db = mongo.db(database)
    assert result.returncode == 0, result.log[-3000:]
    assert db.articles.count_documents({}) == 199
    rejects = list(db.rejects.find({}, {"_id": 0}))
    assert [r["reason"] for r in rejects] == ["store_rejected"], rejects
    assert re.match(r"MongoDB error 11000: .*duplicate key", rejects[0]["detail"]), rejects[0]["detail"]
    assert rejects[0]["raw"]["info_code"] not in db.articles.distinct("_id")
    assert result.stat("finews/store/write_failed") == 0
    assert result.stat("finews/articles/new") == 199
    assert "Replayed" not in result.log and "MongoDB write failed" not in result.log
    assert not list((tmp_path / "out" / "data" / "journal").rglob("*.jsonl")), "no segment waits for a replay"


def test_write_articles_refuses_one_document_and_keeps_the_others(mongo):
    from test_archive import EARLY, MEDIA, article  # noqa: PLC0415

    from finews.storage.archive import Archive  # noqa: PLC0415
    from finews.storage.documents import to_document  # noqa: PLC0415

    database = mongo.new_database()
    mongo.db(database).articles.create_index("title", unique=True, name="title_unique")
    archive = Archive(mongo.uri, database)
    archive.open()
    try:
        media = to_document(article(MEDIA, "old_post"))
        twin = to_document(article(EARLY, title=media["title"]))
        assert archive.write_articles([media, twin]) == {"new": 1, "rejected": 1}
        refused = archive.take_refused()
        assert [(r["reason"], r["raw"]["info_code"]) for r in refused] == [("store_rejected", twin["info_code"])]
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


# -- revisions: the newest kept (item 5) --------------------------------------------------------


def _open(mongo, **options):
    from finews.storage.archive import Archive  # noqa: PLC0415

    archive = Archive(mongo.uri, mongo.new_database(), **options)
    archive.open()
    return archive


def _text(base: dict, words: str, **changes) -> dict:
    import dataclasses  # noqa: PLC0415

    from test_archive import changed_text  # noqa: PLC0415

    return dataclasses.asdict(dataclasses.replace(changed_text(base, words), **changes))


def test_a_late_earlier_text_takes_its_place_in_a_full_history_and_counts_once(mongo):
    """Texts of versions 2, 4, 6 and 8 leave 6, 4, 2 in a history of three. A late text of version 5 belongs
    between 6 and 4 (2 goes); before, $push appended it and $slice cut it at once, and every later sighting
    counted it as revised again. A late text of version 1 is older than all three: not kept, not counted."""
    from test_archive import MEDIA, article  # noqa: PLC0415

    from finews.storage.documents import to_document  # noqa: PLC0415

    archive = _open(mongo, max_revisions=3)
    try:
        base = article(MEDIA, "old_post", version=2)
        archive.write_articles([to_document(base)])
        for version in (4, 6, 8):
            assert archive.write_articles([to_document(_text(base, f"第{version}版。", version=version))]) == {
                "revised": 1}
        late = to_document(_text(base, "第5版。", version=5))
        assert archive.write_articles([late]) == {"revised": 1}
        stored = archive.articles.find_one({"_id": base["info_code"]})
        assert [r["version"] for r in stored["revisions"]] == [6, 5, 4] and stored["version"] == 8
        # Two kinds of revision looked alike: a replaced text, and a late earlier one that was never current.
        assert [r.get("kind") for r in stored["revisions"]] == ["replaced", "earlier", "replaced"]
        assert archive.write_articles([to_document(_text(base, "第5版。", version=5))]) == {"unchanged": 1}
        oldest = to_document(_text(base, "第1版。", version=1))
        assert archive.write_articles([oldest]) == {"unchanged": 1}
        assert archive.write_articles([oldest]) == {"unchanged": 1}
        stored = archive.articles.find_one({"_id": base["info_code"]})
        assert [r["version"] for r in stored["revisions"]] == [6, 5, 4]
    finally:
        archive.close()


def test_an_eleventh_revision_keeps_the_newest_ten(mongo):
    from test_archive import MEDIA, article  # noqa: PLC0415

    from finews.storage.documents import to_document  # noqa: PLC0415

    archive = _open(mongo)  # FINEWS_MAX_REVISIONS' default: 10
    try:
        base = article(MEDIA, "old_post")
        archive.write_articles([to_document(base)])
        hashes = [base["content_hash"]]
        for number in range(11):
            doc = to_document(_text(base, f"第{number}版。"))
            assert archive.write_articles([doc]) == {"revised": 1}
            hashes.append(doc["content_hash"])
        stored = archive.articles.find_one({"_id": base["info_code"]})
        assert stored["content_hash"] == hashes[-1]
        assert [r["content_hash"] for r in stored["revisions"]] == hashes[-2:-12:-1]
    finally:
        archive.close()


# -- 16 MiB by construction (item 2) ------------------------------------------------------------

MIB16 = 16 * 1024 * 1024


def test_revisions_of_a_maximal_article_drop_the_oldest_to_stay_under_16_mib(mongo):
    """1,000,000 Chinese characters are about 6 MB once (body_html and body_text); a revision doubles that, and
    the second revision made 18 MB, which MongoDB refused (code 10334): the article's new text was lost."""
    import bson  # noqa: PLC0415
    from test_archive import MEDIA, article  # noqa: PLC0415

    from finews.storage.documents import to_document  # noqa: PLC0415

    archive = _open(mongo)
    try:
        base = article(MEDIA, "old_post")
        first = _text(dict(base, body_html="<p>" + "长" * 999_000 + "</p>"), "一")
        archive.write_articles([to_document(first)])
        second = _text(first, "二")
        assert archive.write_articles([to_document(second)]) == {"revised": 1}
        third = to_document(_text(first, "三"))
        assert archive.write_articles([third]) == {"revised": 1}
        stored = archive.articles.find_one({"_id": base["info_code"]})
        assert stored["content_hash"] == third["content_hash"]
        assert [r["content_hash"] for r in stored["revisions"]] == [second["content_hash"]]  # the oldest went
        assert len(bson.encode(stored)) <= MIB16
        assert archive.take_refused() == []
    finally:
        archive.close()


def test_an_oversized_article_among_199_good_ones_is_one_reject_and_the_run_ends_0(mongo, tmp_path):
    """Its body_html and body_text both hold 3,000,000 characters: 18 MB once stored."""
    posts = tmp_path / "posts"
    paths = generate_posts(posts, 200)
    huge = paths[5]  # a media post: its body runs to the end of the file
    huge.write_text(huge.read_text(encoding="utf-8") + "\n\n" + "长" * 3_000_000 + "\n", encoding="utf-8")
    result = run_crawl("http://127.0.0.1:9/", tmp_path / "out", "-a", f"path={posts}", "-s",
                       "FINEWS_MAX_BODY_CHARS=4000000", spider="posts", mongo=mongo, timeout=600)
    db = mongo.db(result.database)
    assert result.returncode == 0, result.log[-3000:]
    assert db.articles.count_documents({}) == 199
    [reject] = list(db.rejects.find({}, {"_id": 0}))
    assert reject["reason"] == "document_too_large"
    assert re.fullmatch(r"one version takes \d+ bytes encoded; MongoDB's limit is 16777216 \(it refuses more "
                        r"with code 10334\)", reject["detail"]), reject["detail"]
    assert huge.stem.rsplit("-", 1)[1] in reject["raw"]["info_code"]
    assert result.stat("finews/store/write_failed") == 0 and result.stat("finews/articles/rejected") == 1
    assert "Replayed" not in result.log and "MongoDB write failed" not in result.log
    assert not list((tmp_path / "out" / "data" / "journal").rglob("*.jsonl")), "no segment waits for a replay"


def test_a_version_that_cannot_fit_is_rejected_with_its_size_before_it_is_sent(mongo):
    from test_archive import EARLY, MEDIA, article  # noqa: PLC0415

    from finews.storage.documents import to_document  # noqa: PLC0415

    archive = _open(mongo)
    try:
        huge = to_document(article(EARLY, title="长" * 20_000_000))  # 60 MB: pymongo's DocumentTooLarge before
        assert archive.write_articles([to_document(article(MEDIA, "old_post")), huge]) == {"new": 1, "rejected": 1}
        [refused] = archive.take_refused()
        assert refused["reason"] == "document_too_large", refused
        assert re.match(r"one version takes \d+ bytes encoded; MongoDB's limit is 16777216 ", refused["detail"])
        assert len(refused["raw"]["title"]) <= 1000  # the reject itself fits
    finally:
        archive.close()


def _alias_bomb_post(path, code: str) -> None:
    """A post source whose title is a YAML alias bomb: about 67 MB once expanded (a fault drill's input)."""
    lines = ["---", "layout: post", "a0: &a0 [" + ",".join(['"lol"'] * 18) + "]"]
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 7)]
    lines += ["title: *a6", "date: 2022-05-31 18:00:00 +0800", "categories: emnews", "tags: 东财滚动新闻", "---",
              "", "正文第一段。", "", "正文第二段。", "",
              f"[原文](http://finance.eastmoney.com/html_News/NewsShare.html?infoCode={code})"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_an_alias_bomb_title_is_rejected_and_the_run_goes_on(mongo, tmp_path):
    """Before: its 67 MB title made DocumentTooLarge (no PyMongoError) crash the write, the article was neither
    archived nor rejected, the run exited 0, and its journal segment crashed every later run again. Now the
    source reader refuses YAML anchors; a title that large from anywhere else is document_too_large (above)."""
    posts = tmp_path / "posts"
    generate_posts(posts, 20)
    _alias_bomb_post(posts / "_posts" / "2022-05-31-NW202205319999999999.md", "NW202205319999999999")
    result = run_crawl("http://127.0.0.1:9/", tmp_path / "out", "-a", f"path={posts}", spider="posts", mongo=mongo,
                       timeout=600)
    db = mongo.db(result.database)
    assert db.articles.count_documents({}) == 20, result.log[-3000:]
    [reject] = list(db.rejects.find({"reason": "yaml_anchor"}))
    assert reject["url"].endswith("2022-05-31-NW202205319999999999.md")
    assert "archive write crashed" not in result.log and "Traceback" not in result.log
    assert result.stat("finews/store/write_crashed") == 0
    assert not list((tmp_path / "out" / "data" / "journal").rglob("*.jsonl")), "no segment left to crash again"


# -- rejects fit too (item 3) -------------------------------------------------------------------


def test_a_20_mb_reject_is_cut_to_fit_and_stored(mongo, tmp_path):
    """A dropped item's raw dict was stored whole: 20 MB made insert_many fail and the whole batch went to the
    file (beside what was inserted); above 48 MB the batch was lost."""
    import bson  # noqa: PLC0415

    posts = tmp_path / "posts"
    paths = generate_posts(posts, 30)
    huge = paths[5]  # a media post: its body runs to the end of the file
    huge.write_text(huge.read_text(encoding="utf-8") + "\n\n" + "长" * 7_000_000 + "\n", encoding="utf-8")
    result = run_crawl("http://127.0.0.1:9/", tmp_path / "out", "-a", f"path={posts}", spider="posts", mongo=mongo,
                       timeout=600)
    db = mongo.db(result.database)
    assert db.articles.count_documents({}) == 29, result.log[-3000:]
    [reject] = list(db.rejects.find({"reason": "body_too_large"}))  # the raw item: 21 MB of body_html
    assert len(bson.encode(reject)) < MIB16
    assert huge.stem.rsplit("-", 1)[1] in reject["url"] and reject["raw"]["title"]
    assert reject["raw"]["body_html"]["truncated_from"] > 7_000_000
    assert not (tmp_path / "out" / "rejects.jsonl").exists(), "nothing fell back to the file"


def test_a_partly_refused_reject_batch_hands_back_only_the_refused_records(mongo):
    """insert_many applies the others and raises; the file fallback took the whole batch (duplicating what was
    inserted). Only what MongoDB refused goes to the file now."""
    archive = _open(mongo)
    try:
        archive.db.rejects.insert_one({"_id": "taken", "reason": "earlier"})
        refused = archive.add_rejects([{"reason": "a"}, {"_id": "taken", "reason": "b"}, {"reason": "c"}])
        assert [r["reason"] for r in refused] == ["b"]
        assert sorted(r["reason"] for r in archive.db.rejects.find()) == ["a", "c", "earlier"]
    finally:
        archive.close()


# -- the journal: replays count once (item 10), segments know their archive (item 6) -----------


def _leave_segment(folder, archive, docs) -> None:
    """What a run killed after MongoDB acknowledged a batch, before the checkpoint let its segment go, leaves."""
    from finews.storage.journal import Journal  # noqa: PLC0415

    journal = Journal(folder, archive.target)
    for doc in docs:
        journal.append(doc)
    journal.release(journal.cut())


def _sighted(doc: dict) -> dict:
    from bson import ObjectId  # noqa: PLC0415

    return dict(doc, sighting=str(ObjectId()))


def test_a_sighting_applied_twice_counts_once(mongo):
    from test_archive import MEDIA, article  # noqa: PLC0415

    from finews.storage.documents import to_document  # noqa: PLC0415

    archive = _open(mongo)
    try:
        doc = _sighted(to_document(article(MEDIA, "old_post")))
        assert archive.write_articles([doc]) == {"new": 1}
        assert archive.write_articles([doc]) == {"replayed": 1}
        again = _sighted(to_document(article(MEDIA, "old_post")))
        assert archive.write_articles([again, again]) == {"unchanged": 1, "replayed": 1}
        stored = archive.articles.find_one({"_id": doc["_id"]})
        assert stored["seen_count"] == 2 and "sighting" not in stored
    finally:
        archive.close()


def test_replaying_an_acknowledged_segment_changes_no_count(mongo, tmp_path):
    """736 articles fetched once showed seen_count 2 after a replay of segments the server had acknowledged."""
    from test_archive import article  # noqa: PLC0415

    from finews.storage.archive import Archive  # noqa: PLC0415
    from finews.storage.documents import to_document  # noqa: PLC0415

    database = mongo.new_database()
    archive = Archive(mongo.uri, database)
    archive.open()
    names = sorted(p.name for p in (ROOT / "tests" / "fixtures" / "posts" / "_posts").glob("2022-*.md"))[:30]
    docs = [_sighted(to_document(article(name))) for name in names]
    try:
        assert archive.write_articles(docs)["new"] == len({d["_id"] for d in docs})
        _leave_segment(tmp_path / "out" / "data" / "journal", archive, docs)
    finally:
        archive.close()
    posts = tmp_path / "posts"
    generate_posts(posts, 3)
    result = run_crawl("http://127.0.0.1:9/", tmp_path / "out", "-a", f"path={posts}", spider="posts", mongo=mongo,
                       database=database)
    assert result.returncode == 0, result.log[-3000:]
    assert result.stat("finews/store/replayed") == len(docs)
    assert mongo.db(database).articles.count_documents({"seen_count": {"$ne": 1}}) == 0
    assert not list((tmp_path / "out" / "data" / "journal").rglob("*.jsonl"))


def test_a_segment_for_another_archive_is_reported_and_left_in_place(mongo, tmp_path):
    """A run whose MONGO_URI did not answer left segments; the next run, into another archive, replayed them
    there. Each segment names its target now (hosts and database, never the password)."""
    from test_archive import MEDIA, article  # noqa: PLC0415
    from test_operations import finews, finews_env  # noqa: PLC0415

    from finews.storage.archive import Archive  # noqa: PLC0415
    from finews.storage.documents import to_document  # noqa: PLC0415

    other = Archive(mongo.uri.replace("mongodb://", "mongodb://finews:s3cret@"), "elsewhere")
    journal = tmp_path / "out" / "data" / "journal"
    _leave_segment(journal, other, [to_document(article(MEDIA, "old_post"))])
    posts = tmp_path / "posts"
    generate_posts(posts, 3)
    database = mongo.new_database()
    result = run_crawl("http://127.0.0.1:9/", tmp_path / "out", "-a", f"path={posts}", spider="posts", mongo=mongo,
                       database=database)
    assert result.returncode == 0, result.log[-3000:]
    assert mongo.db(database).articles.count_documents({}) == 3  # not the other archive's article
    assert result.stat("finews/store/replayed") == 0
    assert result.stat("finews/store/journal_foreign") == 1
    assert re.search(r"1 journal segment\(s\) written for another archive \(.*database elsewhere\).*left in",
                     result.log), result.log[-2000:]
    assert len(list(journal.rglob("*.jsonl"))) == 1
    assert "s3cret" not in result.log
    env = finews_env(tmp_path / "status", "http://127.0.0.1:9/", mongo, database,
                     FINEWS_DATA_DIR=str(tmp_path / "out" / "data"))
    status = finews("status", env=env)
    assert status.returncode == 0, status.stderr
    assert re.search(r"journal: 0 segment\(s\) for this archive; 1 for .*database elsewhere", status.stdout), \
        status.stdout
    assert "s3cret" not in status.stdout


def test_segments_from_before_segments_named_their_archive_are_reported_not_replayed(tmp_path):
    from finews.storage.journal import UNKNOWN_TARGET, Journal  # noqa: PLC0415

    (tmp_path / "journal").mkdir()
    (tmp_path / "journal" / "1700000000-1-000001.jsonl").write_text('{"_id": "NW1"}\n', encoding="utf-8")
    journal = Journal(tmp_path / "journal", {"hosts": ["db:27017"], "database": "finews"})
    assert journal.foreign() == [(UNKNOWN_TARGET, 1)]
    assert journal.claim_leftovers() == [] and journal.pending_segments() == 0


# -- durability on replica sets (item 8), an unwritable journal (item 9) ------------------------


def test_the_checkpoint_waits_for_a_majority_on_a_replica_set(mongo):
    """SecantusDB presents itself as a one-node replica set, as a production MongoDB usually is."""
    archive = _open(mongo)
    try:
        archive.checkpoint()
        assert archive.checkpoint_concern.document == {"w": "majority", "j": True}
    finally:
        archive.close()


def test_an_unwritable_journal_fails_the_run_with_the_storage_status_before_any_item(mongo, tmp_path):
    """Before: every item failed with a traceback and was neither archived nor rejected."""
    from finews import outcome  # noqa: PLC0415

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    posts = tmp_path / "posts"
    generate_posts(posts, 5)
    result = run_crawl("http://127.0.0.1:9/", tmp_path / "out", "-a", f"path={posts}", "-s",
                       f"FINEWS_JOURNAL_DIR={blocker}", spider="posts", mongo=mongo)
    assert result.returncode == outcome.STORAGE_DOWN, result.log[-3000:]
    assert "Traceback" not in result.log
    assert len(re.findall(r"journal .*not-a-folder.* cannot be written", result.log)) == 1, result.log[-3000:]
    assert result.stat("item_scraped_count") == 0


# -- the change feed (item 7) ---------------------------------------------------------------------


def _feed(env: dict, since: str | None = None) -> list[dict]:
    import json  # noqa: PLC0415

    from test_operations import finews  # noqa: PLC0415

    run = finews("changes", *(["--since", since] if since else []), env=env)
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert lines and set(lines[-1]) == {"cursor"}, lines[-3:]  # the last line: where to read on from
    return lines


def test_a_reader_polling_between_two_writers_sees_every_change_once(mongo, tmp_path):
    """Two crawls write one database at once (the second revises a third of the first's texts), while a
    `finews changes` reader polls with the cursor of its last read. What it saw is, change for change, what one
    read of the whole feed afterwards gives: nothing missed, nothing twice. (Polling updated_at lost 254-673 of
    1,035 new articles in the same situation.)"""
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    from test_operations import finews_env  # noqa: PLC0415

    from finews.storage.archive import Archive  # noqa: PLC0415
    from finews.storage.changes import changes  # noqa: PLC0415

    database = mongo.new_database()
    env = finews_env(tmp_path, "http://127.0.0.1:9/", mongo, database)
    first, second = tmp_path / "first", tmp_path / "second"
    generate_posts(first, 150)
    for index, path in enumerate(generate_posts(second, 150)):
        if index % 3 == 0:  # another text of the same post: whichever comes second revises the first
            path.write_text(re.sub(r'^(title: ".*)"$', r'\1（更新）"', path.read_text(encoding="utf-8"), count=1,
                                   flags=re.M), encoding="utf-8")
    start = _feed(env)[-1]["cursor"]
    writers = []
    for name, posts in (("a", first), ("b", second)):
        out = tmp_path / name
        writers.append(subprocess.Popen(
            [sys.executable, "-m", "scrapy", "crawl", "posts", "-a", f"path={posts}", "-s", f"LOG_FILE={out}.log",
             "-s", f"FINEWS_DATA_DIR={out}", "-s", f"FINEWS_OUTPUT_DIR={out}", "-s", "FINEWS_MONGO_BATCH_SIZE=20",
             "-s", "FINEWS_MONGO_FLUSH_SECONDS=0.2"], cwd=ROOT, env=env))
    seen, cursor, polls = [], start, 0
    reader = Archive(mongo.uri, database)  # polled in the test's process: many polls while the writers write
    reader.open()
    try:
        while any(w.poll() is None for w in writers):
            # a small page, so that cursors fall between any two writes (how many polls fit is the machine's speed)
            lines = list(changes(reader.db, cursor, 25))
            seen += lines[:-1]
            cursor = lines[-1]["cursor"]
            polls += bool(lines[:-1])
    finally:
        reader.close()
    seen += _feed(env, cursor)[:-1]  # and the command, as a job runs it
    assert [w.wait() for w in writers] == [0, 0]
    whole = _feed(env, start)[:-1]
    assert [(c["_id"], c["cursor"]) for c in seen] == [(c["_id"], c["cursor"]) for c in whole]
    assert len({c["cursor"] for c in seen}) == len(seen)
    db = mongo.db(database)
    assert {c["_id"] for c in seen if c["op"] == "insert"} == set(db.articles.distinct("_id"))
    assert db.articles.count_documents({"revisions.0": {"$exists": True}}) == 50
    assert len([c for c in seen if c["op"] == "update" and "title" in c["fields"]]) == 50
    assert polls >= 2, polls  # read in the middle of the writes, not once after them
    print(f"{polls} polls with changes while the writers ran, {len(seen)} changes")


def test_merges_and_share_marks_are_changes_and_sightings_are_not(mongo, tmp_path):
    """A corrected published_at and a share failure mark moved no updated_at: a job never saw them."""
    from test_archive import EARLY, article  # noqa: PLC0415
    from test_operations import finews_env  # noqa: PLC0415

    from finews.storage.archive import Archive  # noqa: PLC0415
    from finews.storage.documents import to_document  # noqa: PLC0415

    database = mongo.new_database()
    env = finews_env(tmp_path, "http://127.0.0.1:9/", mongo, database)
    archive = Archive(mongo.uri, database)
    archive.open()
    try:
        page = dict(article(EARLY, via="post_source"), via="post_page", published_at="2021-12-08T18:46:18+08:00")
        archive.write_articles([to_document(page)])
        start = _feed(env)[-1]["cursor"]
        archive.write_articles([to_document(page)])  # the same again: a sighting only
        assert archive.write_articles([to_document(article(EARLY, via="post_source"))]) == {"merged": 1}
        archive.mark_share_failures([{"info_code": page["info_code"], "reason": "api_http_500", "detail": "x"}])
    finally:
        archive.close()
    changes = _feed(env, start)[:-1]
    assert [("published_at" in c["fields"], "share_status" in c["fields"]) for c in changes] == [
        (True, False), (False, True)]


def test_a_start_the_server_no_longer_keeps_is_refused_in_one_line(mongo, tmp_path):
    from test_operations import finews, finews_env  # noqa: PLC0415

    env = finews_env(tmp_path, "http://127.0.0.1:9/", mongo)
    run = finews("changes", "--since", "2020-01-01", env=env)
    assert run.returncode == 2 and run.stdout == ""
    assert re.fullmatch(r"finews changes: the server keeps changes from \S+ on only: .*\n", run.stderr), run.stderr
    bad = finews("changes", "--since", "yesterday", env=env)
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1, bad.stderr
    bad_cursor = finews("changes", "--since", "1.x", env=env)
    assert bad_cursor.returncode == 2 and bad_cursor.stderr.startswith("finews changes: argument --since: not a "
                                                                      "cursor"), bad_cursor.stderr


def test_a_feed_reader_with_no_database_gets_one_line_and_the_storage_status(tmp_path):
    from test_operations import finews, finews_env  # noqa: PLC0415

    from finews import outcome  # noqa: PLC0415

    env = finews_env(tmp_path, "http://127.0.0.1:9/", MONGO_URI="mongodb://finews:s3cret@127.0.0.1:9/",
                     FINEWS_MONGO_TIMEOUT_MS="300")
    run = finews("changes", "--since", "1.2", env=env)
    assert run.returncode == outcome.STORAGE_DOWN and run.stdout == "", run.stderr
    assert "Traceback" not in run.stderr and "s3cret" not in run.stderr
    assert run.stderr.splitlines()[-1] == (
        "finews changes: MongoDB at mongodb://finews:***@127.0.0.1:9/ does not answer (ServerSelectionTimeoutError)")


# -- docs/schema.md: every documented query uses its index; its code and commands run as written --------

SCHEMA_DOC = ROOT / "docs" / "schema.md"


def _queries_benchmark():
    """benchmarks/queries.py: the documented queries and the archive they are measured on, shared with the test."""
    import importlib.util  # noqa: PLC0415

    spec = importlib.util.spec_from_file_location("finews_queries_benchmark", ROOT / "benchmarks" / "queries.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _documented_queries() -> list[tuple[str, str, str, str]]:
    return _queries_benchmark().documented_queries()


def test_every_documented_query_uses_the_index_the_schema_names(mongo, fixture_crawl):
    from bson import json_util  # noqa: PLC0415

    rows = _documented_queries()
    assert len(rows) >= 13 and {r[0] for r in rows} == {"articles", "rejects", "crawl_runs", "listings"}
    db = mongo.db(fixture_crawl.database)
    for collection, filter_, sort, index in rows:
        cursor = db[collection].find(json_util.loads(filter_))
        if sort:
            cursor = cursor.sort(list(json_util.loads(sort).items()))
        plan = str(cursor.limit(20).explain()["queryPlanner"]["winningPlan"])
        assert ("IXSCAN" in plan and f"'{index}'" in plan) or (index == "_id_" and "IDHACK" in plan), (
            collection, filter_, plan)


def test_the_python_of_the_schema_document_runs_as_written(mongo, fixture_crawl):
    import os  # noqa: PLC0415
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    blocks = re.findall(r"```python\n(.*?)```", SCHEMA_DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 2
    env = {**os.environ, "MONGO_URI": mongo.uri, "FINEWS_MONGO_DATABASE": fixture_crawl.database}
    outputs = []
    for block in blocks:
        run = subprocess.run([sys.executable, "-c", block], env=env, capture_output=True, text=True, timeout=60,
                             check=False)
        assert run.returncode == 0, run.stderr
        outputs.append(run.stdout)
    assert re.fullmatch(r"save \d+\.\d+\n", outputs[0]), outputs[0]  # the feed recipe: the cursor to keep
    assert outputs[1].count("\n") == 20


def _ten_thousand(db) -> None:
    """10,000 articles (and as many rejects and run records) over a year up to 2022-05-02, about 30 a day:
    each documented range from 2022-05-01 on admits a day or two of them, as a reader's "since yesterday" would."""
    _queries_benchmark().fill(db, 10_000)


def test_every_documented_query_examines_about_what_it_returns(mongo):
    """At 10,000 articles "the newest 20" examined all of them and a category query its whole category: an
    index serves a sort with a limit, but SecantusDB examines every document the filter admits, limit or not
    (shared notes, mongodb.md). Each documented query now bounds what its filter admits (a range on the sorted
    field, or an equality with one): it admits at most 0.5 % of the collection, examines no more than
    twice what it admits, and reads the named index."""
    from bson import json_util  # noqa: PLC0415

    db = mongo.db(mongo.new_database())
    _ten_thousand(db)
    for collection, filter_, sort, index in _documented_queries():
        query = json_util.loads(filter_)
        cursor = db[collection].find(query)
        if sort:
            cursor = cursor.sort(list(json_util.loads(sort).items()))
        explained = cursor.limit(20).explain()
        admitted = db[collection].count_documents(query)
        examined = explained["executionStats"]["totalDocsExamined"]
        plan = str(explained["queryPlanner"]["winningPlan"])
        assert ("IXSCAN" in plan and f"'{index}'" in plan) or (index == "_id_" and "IDHACK" in plan), (filter_, plan)
        assert admitted <= max(1, 0.005 * db[collection].estimated_document_count()), (collection, filter_, admitted)
        assert examined <= 2 * admitted + 5, (collection, filter_, examined, admitted)
