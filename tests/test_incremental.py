"""Crawls into the archive: incremental runs, conditional listings, crashes and a database that goes away."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import FIXTURE_POSTS, ROOT, Mongo, run_crawl

from finews import outcome
from finews.replica import Replica, generate_posts
from finews.storage.embedded import EmbeddedServer, free_port

NEW_POST = (
    '---\nlayout: post\ntitle: "新增的一条消息"\ndate: 2022-06-01 09:30:00 +0800\ncategories: emnews\n'
    "tags: 东财滚动新闻\n---\n> 摘要。\n\n<p>新增消息的正文。</p><p>第二段。</p>\n\n"
    "<http://finance.eastmoney.com/news/1353,202206012400000001.html>"
)


def test_second_run_fetches_no_post_and_listings_answer_304(replica, mongo, tmp_path):
    database = mongo.new_database()
    first = run_crawl(replica.url, tmp_path / "1", mongo=mongo, database=database)
    assert first.stat("finews/articles/new") == 119
    assert mongo.db(database).articles.count_documents({}) == 119
    replica.reset_counters()
    second = run_crawl(replica.url, tmp_path / "2", mongo=mongo, database=database)
    assert second.returncode == 0
    assert replica.count("post") == 0
    # Home page, feed and the archive's two categories (emnews, huaxiashibao): one 304 each.
    assert replica.count("listing", 200) == 0 and replica.count("listing", 304) == 3
    assert replica.count("feed", 304) == 1
    assert second.stat("finews/listing/not_modified") == 4
    runs = list(mongo.db(database).crawl_runs.find().sort("started_at", 1))
    assert [r["finish_reason"] for r in runs] == ["finished", "finished"]
    assert runs[0]["stats"]["finews/articles/new"] == 119 and runs[0]["arguments"] == {"base_url": replica.url}


def test_edited_and_added_posts(mongo, tmp_path):
    posts = tmp_path / "posts"
    shutil.copytree(FIXTURE_POSTS, posts)
    database = mongo.new_database()
    with Replica(posts) as server:
        assert run_crawl(server.url, tmp_path / "1", mongo=mongo, database=database).stat("finews/articles/new") == 119
        edited = posts / "_posts" / "2022-05-31-202205312398034850.md"
        edited.write_text(edited.read_text(encoding="utf-8").replace("今日(5月31日)", "今日（5月31日，更正）"),
                          encoding="utf-8")
        (posts / "_posts" / "2022-06-01-202206012400000001.md").write_text(NEW_POST, encoding="utf-8")
        server.site.reload()
        server.reset_counters()
        third = run_crawl(server.url, tmp_path / "3", mongo=mongo, database=database)
        assert (third.stat("finews/articles/new"), third.stat("finews/articles/revised")) == (1, 0)
        assert server.count("post") == 1  # the new post only: the edited one is known
        refreshed = run_crawl(server.url, tmp_path / "4", "-a", "refresh=1", "-a", "share=0", mongo=mongo,
                              database=database)
    assert refreshed.stat("finews/articles/revised") == 1
    assert refreshed.stat("finews/articles/new") == 0
    assert refreshed.stat("finews/articles/unchanged") == 119
    stored = mongo.db(database).articles.find_one({"_id": "NW202205312398034850"})
    assert "更正" in stored["summary"] and len(stored["revisions"]) == 1
    assert mongo.db(database).articles.count_documents({}) == 120


def test_two_runs_and_two_concurrent_processes_give_one_document_per_post(replica, mongo, tmp_path):
    database = mongo.new_database()
    once = ("-a", "refresh=1", "-a", "share=0")  # post pages only: each run sees each post once
    run_crawl(replica.url, tmp_path / "1", *once, mongo=mongo, database=database)
    run_crawl(replica.url, tmp_path / "2", *once, mongo=mongo, database=database)
    command = _crawl_command(replica.url, mongo.uri, database, *once)
    both = [subprocess.Popen([*command, "-s", f"FINEWS_DATA_DIR={tmp_path / f'p{i}'}"], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(2)]
    assert [p.wait(timeout=300) for p in both] == [0, 0]
    articles = mongo.db(database).articles
    assert articles.count_documents({}) == 119
    assert {d["seen_count"] for d in articles.find({}, {"seen_count": 1})} == {4}


def _crawl_command(base_url: str, uri: str, database: str, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "scrapy", "crawl", "finews", "-a", f"base_url={base_url}",
        "-s", f"MONGO_URI={uri}", "-s", f"FINEWS_MONGO_DATABASE={database}", "-s", "AUTOTHROTTLE_ENABLED=0",
        "-s", "TELNETCONSOLE_ENABLED=0", "-s", "LOG_LEVEL=INFO", "-s", "FINEWS_MONGO_TIMEOUT_MS=1000",
        "-s", f"FINEWS_SHARE_BASE_URL={base_url}", *extra,
    ]


def _wait_for(condition, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_sigkill_mid_crawl_then_restart_archives_every_post_once(mongo, tmp_path):
    posts = tmp_path / "posts"
    generate_posts(posts, 300)
    database = mongo.new_database()
    data = tmp_path / "data"
    journal = data / "journal"
    # Writes only by size, so the kill finds articles journaled but not yet written.
    settings = ["-s", f"FINEWS_DATA_DIR={data}", "-s", "FINEWS_MONGO_BATCH_SIZE=40",
                "-s", "FINEWS_MONGO_FLUSH_SECONDS=60", "-s", "CONCURRENT_REQUESTS=4"]
    articles = mongo.db(database).articles
    with Replica(posts, latency=0.02) as server:
        crawl = subprocess.Popen(_crawl_command(server.url, mongo.uri, database, *settings), cwd=ROOT,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for(lambda: articles.count_documents({}) >= 40 and any(
            p.stat().st_size > 0 for p in journal.rglob("*.jsonl")))
        os.kill(crawl.pid, signal.SIGKILL)
        crawl.wait()
        archived_at_kill = articles.count_documents({})
        assert archived_at_kill < 300
        again = _rerun(server.url, mongo, database, data, tmp_path)
    assert "Replayed" in again
    assert articles.count_documents({}) == 300
    assert not list(journal.rglob("*.jsonl"))


def _rerun(base_url: str, mongo: Mongo, database: str, data: Path, tmp_path: Path) -> str:
    log = tmp_path / "rerun.log"
    command = _crawl_command(base_url, mongo.uri, database, "-s", f"FINEWS_DATA_DIR={data}", "-s", f"LOG_FILE={log}")
    assert subprocess.run(command, cwd=ROOT, timeout=300, check=False).returncode == 0
    return log.read_text(encoding="utf-8")


@pytest.mark.parametrize("back_during_crawl", [True, False], ids=["back-mid-crawl", "back-after"])
def test_database_stopped_mid_crawl_loses_nothing(tmp_path, back_during_crawl):
    posts = tmp_path / "posts"
    generate_posts(posts, 200)
    port = free_port()
    server_dir = tmp_path / "db"
    db_server = EmbeddedServer(server_dir, port=port)
    uri = db_server.start()
    mongo = Mongo(uri)
    database = mongo.new_database()
    articles = mongo.db(database).articles
    data = tmp_path / "data"
    settings = ["-s", f"FINEWS_DATA_DIR={data}", "-s", "FINEWS_MONGO_BATCH_SIZE=20", "-s",
                "FINEWS_MONGO_FLUSH_SECONDS=0.5", "-s", "CONCURRENT_REQUESTS=4"]
    try:
        # Slow enough answers (200 posts, 4 at a time: ~8 s) that the crawl outlives the database's absence.
        with Replica(posts, latency=0.15) as site:
            crawl = subprocess.Popen(_crawl_command(site.url, uri, database, *settings), cwd=ROOT,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _wait_for(lambda: articles.count_documents({}) >= 20)
            db_server.shutdown()
            if back_during_crawl:
                time.sleep(2)
                db_server = EmbeddedServer(server_dir, port=port)
                db_server.start()
                assert crawl.poll() is None, "the crawl ended before the database was back"
                assert crawl.wait(timeout=300) == 0
            else:
                # The run says so in its exit status: the archive did not take everything (yet).
                assert crawl.wait(timeout=300) == outcome.STORAGE_DOWN
                assert list((data / "journal").rglob("*.jsonl")), "the unwritten articles wait in the journal"
                db_server = EmbeddedServer(server_dir, port=port)
                db_server.start()
                assert "Replayed" in _rerun(site.url, mongo, database, data, tmp_path)
        assert articles.count_documents({}) == 200
        assert not list((data / "journal").rglob("*.jsonl"))
    finally:
        db_server.shutdown()
