"""Operations: `finews crawl` for cron (lock, exit statuses, log), JOBDIR after SIGKILL, the CLI, passwords."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import FIXTURE_POSTS, ROOT

from finews import outcome
from finews.codes import canonical_info_code
from finews.replica import Replica, generate_posts
from finews.storage.embedded import free_port

NO_CODE_POST = (
    '---\nlayout: post\ntitle: "无编号"\ndate: 2022-06-01 09:00:00 +0800\ncategories: emnews\n'
    "tags: 东财滚动新闻\n---\n正文"
)


def finews_env(tmp_path: Path, base_url: str, mongo=None, database: str | None = None, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FINEWS_", "MONGO_URI", "SPLASH_URL"))}
    env.update(FINEWS_DATA_DIR=str(tmp_path / "data"), FINEWS_OUTPUT_DIR=str(tmp_path / "out"),
               FINEWS_BASE_URL=base_url, FINEWS_SHARE_BASE_URL=base_url, FINEWS_MONGO_FLUSH_SECONDS="0.3")
    if mongo is not None:
        env.update(MONGO_URI=mongo.uri, FINEWS_MONGO_DATABASE=database or mongo.new_database())
    env.update(extra)
    return env


def finews(*args: str, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "finews.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)


def start_finews(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "finews.cli", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def lock_holder(tmp_path: Path) -> dict:
    path = tmp_path / "data" / "locks" / "finews.lock"
    try:
        return json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return {}


@pytest.fixture
def slow_site(tmp_path):
    posts = tmp_path / "posts"
    generate_posts(posts, 150)
    with Replica(posts, latency=0.05) as server:
        yield server


def test_two_crawls_at_once_one_runs_the_other_exits_at_once(slow_site, mongo, tmp_path):
    env = finews_env(tmp_path, slow_site.url, mongo, CONCURRENT_REQUESTS="2")
    first = start_finews("crawl", env=env)
    wait_for(lambda: lock_holder(tmp_path).get("pid") == first.pid)
    started = time.monotonic()
    second = finews("crawl", env=env)
    assert second.returncode == outcome.LOCKED and time.monotonic() - started < 15
    assert "not started, another run holds" in second.stderr and f"pid {first.pid}" in second.stderr
    assert first.wait(timeout=300) == outcome.OK


def test_a_stale_lock_from_a_killed_run_is_taken_over(slow_site, mongo, tmp_path):
    env = finews_env(tmp_path, slow_site.url, mongo, CONCURRENT_REQUESTS="2")
    killed = start_finews("crawl", env=env)
    wait_for(lambda: lock_holder(tmp_path).get("pid") == killed.pid)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    again = finews("crawl", env=env)
    assert again.returncode == outcome.OK, again.stdout + again.stderr
    assert "Taking over the stale lock" in (tmp_path / "out" / "finews.log").read_text(encoding="utf-8")


def test_exit_status_when_nothing_is_fetched(mongo, tmp_path):
    generate_posts(tmp_path / "posts", 5)
    with Replica(tmp_path / "posts", error_rate=1.0) as server:
        run = finews("crawl", "-s", "RETRY_TIMES=0", env=finews_env(tmp_path, server.url, mongo))
        scrapy_run = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "finews", "-s", "RETRY_TIMES=0"], cwd=ROOT,
            env=finews_env(tmp_path / "s", server.url, mongo), capture_output=True, text=True, check=False)
    assert run.returncode == outcome.NOTHING_FETCHED and "exit 5 (no 2xx or 304 response" in run.stdout
    assert scrapy_run.returncode == outcome.NOTHING_FETCHED  # plain `scrapy crawl` too, not 0


def test_exit_status_when_the_database_is_down(replica, tmp_path):
    env = finews_env(tmp_path, replica.url, MONGO_URI=f"mongodb://127.0.0.1:{free_port()}/?directConnection=true",
                     FINEWS_MONGO_TIMEOUT_MS="300")
    run = finews("crawl", "-a", "share=0", env=env)
    assert run.returncode == outcome.STORAGE_DOWN, run.stdout + run.stderr
    assert list((tmp_path / "data" / "journal").rglob("*.jsonl"))  # nothing lost: it waits to be replayed


@pytest.fixture
def posts_with_a_codeless_post(tmp_path) -> Path:
    """The fixture corpus and one post without any info code: one reject per crawl."""
    posts = tmp_path / "posts"
    shutil.copytree(FIXTURE_POSTS, posts)
    (posts / "_posts" / "2022-06-01-notanid.md").write_text(NO_CODE_POST, encoding="utf-8")
    return posts


def test_exit_status_and_run_record_when_a_monitor_fails(mongo, tmp_path, posts_with_a_codeless_post):
    posts = posts_with_a_codeless_post
    database = mongo.new_database()
    with Replica(posts) as server:
        run = finews("crawl", env=finews_env(tmp_path, server.url, mongo, database,
                                             FINEWS_MONITOR_MAX_REJECT_SHARE="0"))
    assert run.returncode == outcome.MONITORS_FAILED, run.stdout
    record = mongo.db(database).crawl_runs.find_one()
    assert record["stats"]["finews/monitors/failed"] == 1
    assert record["stats"]["finews/monitors/failures"][0].startswith("finews/rejects")
    assert "Monitor failed: finews/rejects" in (tmp_path / "out" / "finews.log").read_text(encoding="utf-8")


def test_exit_status_when_the_time_limit_cuts_the_run(slow_site, mongo, tmp_path):
    run = finews("crawl", env=finews_env(tmp_path, slow_site.url, mongo, FINEWS_TIME_LIMIT="1",
                                         CONCURRENT_REQUESTS="1"))
    assert run.returncode == outcome.CUT_SHORT and "closespider_timeout" in run.stdout


def test_jobdir_crawl_killed_with_sigkill_then_resumed_archives_every_post_once(slow_site, mongo, tmp_path):
    database = mongo.new_database()
    env = finews_env(tmp_path, slow_site.url, mongo, database, CONCURRENT_REQUESTS="2")
    jobdir = ("-s", f"JOBDIR={tmp_path / 'job'}", "-a", "refresh=1")
    articles = mongo.db(database).articles
    killed = start_finews("crawl", *jobdir, env=env)
    wait_for(lambda: articles.count_documents({}) >= 30, timeout=120)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert articles.count_documents({}) < 150
    resumed = finews("crawl", *jobdir, env=env)
    assert resumed.returncode == outcome.OK, resumed.stdout + resumed.stderr
    assert "did not stop cleanly" in (tmp_path / "out" / "finews.log").read_text(encoding="utf-8")
    assert articles.count_documents({}) == 150
    posted = {canonical_info_code(p.stem.split("-", 3)[3]) for p in (tmp_path / "posts" / "_posts").glob("*.md")}
    assert len(posted) == 150
    assert {d["_id"] for d in articles.find({}, {"_id": 1})} == posted  # each post once, under its own code


def test_jobdir_resumes_after_a_clean_stop(slow_site, mongo, tmp_path):
    database = mongo.new_database()
    env = finews_env(tmp_path, slow_site.url, mongo, database, CONCURRENT_REQUESTS="2")
    jobdir = ("-s", f"JOBDIR={tmp_path / 'job'}", "-a", "refresh=1", "-a", "share=0")
    articles = mongo.db(database).articles
    stopped = start_finews("crawl", *jobdir, env=env)
    wait_for(lambda: articles.count_documents({}) >= 30, timeout=120)
    stopped.send_signal(signal.SIGINT)  # one Ctrl-C: Scrapy stops cleanly and keeps its queue
    stopped.wait(timeout=120)
    slow_site.reset_counters()
    resumed = finews("crawl", *jobdir, env=env)
    assert resumed.returncode == outcome.OK, resumed.stdout
    assert "did not stop cleanly" not in (tmp_path / "out" / "finews.log").read_text(encoding="utf-8")
    assert articles.count_documents({}) == 150
    assert slow_site.count("post") <= 150 - 30 + 10  # the queue resumed: posts done before were not fetched again


def test_a_password_in_the_mongo_uri_never_shows(replica, mongo, tmp_path):
    password = "Pa55-w0rd-never-shown"
    user = f"finews_ops_{os.getpid()}"
    mongo.client.admin.command("createUser", user, pwd=password, roles=["root"])
    uri = mongo.uri.replace("mongodb://", f"mongodb://{user}:{password}@")
    database = mongo.new_database()
    env = finews_env(tmp_path, replica.url, MONGO_URI=uri, FINEWS_MONGO_DATABASE=database)
    run = finews("crawl", "-s", f"MONGO_URI={uri}", env=env)
    assert run.returncode == outcome.OK, run.stdout + run.stderr
    log = (tmp_path / "out" / "finews.log").read_text(encoding="utf-8")
    record = mongo.db(database).crawl_runs.find_one()
    assert record is not None and f"{user}:***@" in log and f"{user}:***@" in record["database"]
    for text in (log, run.stdout, run.stderr, json.dumps(record, default=str)):
        assert password not in text
    scrapy_run = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "finews", "-s", f"MONGO_URI={uri}"],
                                cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert scrapy_run.returncode == outcome.OK, scrapy_run.stderr[-2000:]
    assert f"{user}:***@" in scrapy_run.stderr and password not in scrapy_run.stderr
    mongo.client.admin.command("dropUser", user)


def test_any_log_record_with_a_password_is_redacted_once_the_settings_load():
    """Third-party loggers (pymongo's errors, Scrapy's) too: settings.py installs the redaction for every run."""
    uri = "mongodb://ops:Pa55-w0rd-never-shown@db.example:27017/"
    code = ("import logging, sys; logging.basicConfig(stream=sys.stdout, format='%(message)s'); "
            "import finews.settings; "
            f"logging.getLogger('pymongo.topology').warning('cannot reach %s', {uri!r}); "
            f"logging.getLogger('scrapy.core').error('settings: ' + str({{'MONGO_URI': {uri!r}}}))")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert run.stdout.splitlines() == ["cannot reach mongodb://ops:***@db.example:27017/",
                                       "settings: {'MONGO_URI': 'mongodb://ops:***@db.example:27017/'}"]


def test_argument_errors_print_one_line_and_exit_2(tmp_path):
    env = finews_env(tmp_path, "http://127.0.0.1:9/")
    for args in (["bogus"], ["export", "--since", "2022-13-01"], ["crawl", "-a", "novalue"], [],
                 ["export", "--format", "markdown"]):
        run = finews(*args, env=env)
        assert run.returncode == outcome.USAGE, args
        assert len(run.stderr.strip().splitlines()) == 1 and run.stderr.startswith("finews"), run.stderr


def test_status_stats_rejects_and_export(mongo, tmp_path, posts_with_a_codeless_post):
    posts = posts_with_a_codeless_post
    database = mongo.new_database()
    with Replica(posts) as server:
        env = finews_env(tmp_path, server.url, mongo, database)
        assert finews("crawl", env=env).returncode == outcome.OK
        status = finews("status", env=env)
        assert re.search(r"finews\s+incremental\s+finished\s+0\s+120\s+119", status.stdout), status.stdout
        assert "lock finews: free" in status.stdout
        stats = finews("stats", "--days", "5000", env=env)
        assert "articles 119" in stats.stdout and "missing_info_code" in stats.stdout
        listed = finews("rejects", "list", env=env)
        assert "missing_info_code" in listed.stdout and "notanid.html" in listed.stdout
        requeued = finews("rejects", "requeue", env=env)
        assert "re-queueing 1 reject(s) with: finews crawl finews -a urls_file=" in requeued.stdout
        # Rejected again: the original reject stays listed, with its retry counted, and no second record.
        assert mongo.db(database).rejects.count_documents({"requeued_at": {"$exists": True}}) == 0
        assert [r.get("retries") for r in mongo.db(database).rejects.find({"reason": "missing_info_code"})] == [1]
    exported = tmp_path / "export.jsonl"
    run = finews("export", "--since", "2022-01-01", "--until", "2022-05-26", "--out", str(exported), env=env)
    lines = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
    assert run.returncode == 0 and sorted(d["_id"] for d in lines) == [
        "NW202201072239307540", "NW202204012331570959", "NW202204212352230938", "NW202205262391921712"]
    folder = tmp_path / "md"
    finews("export", "--format", "markdown", "--category", "emnews", "--out", str(folder), env=env)
    files = sorted((folder / "_posts").glob("*.md"))
    assert len(files) == 118
    # Back in through the posts spider: the same articles.
    again = mongo.new_database()
    imported = finews("crawl", "posts", "-a", f"path={folder}",
                      env=finews_env(tmp_path / "re", server.url, mongo, again))
    assert imported.returncode == outcome.OK, imported.stdout
    originals = {d["_id"]: d for d in mongo.db(database).articles.find({"category": "emnews"})}
    for doc in mongo.db(again).articles.find():
        original = originals[doc["_id"]]
        assert (doc["title"], doc["body_text"], doc["published_at"]) == (
            original["title"], original["body_text"], original["published_at"])


def test_finews_reads_its_own_settings_outside_the_project_folder(tmp_path):
    """Outside the project Scrapy finds no scrapy.cfg: every command said FINEWS_BASE_URL='' is not a URL."""
    env = finews_env(tmp_path, "http://127.0.0.1:9/")
    del env["FINEWS_BASE_URL"]
    run = subprocess.run([sys.executable, "-m", "finews.cli", "status"], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=120, check=False)
    assert run.returncode == 0 and "journal:" in run.stdout, run.stderr
