"""The `posts` spider: back-fill from post sources, cross-checked against the site crawl."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from datetime import datetime, timedelta

import pytest
from conftest import FIXTURE_POSTS, ROOT, run_crawl
from oracle import published_posts, reachable_posts
from test_store_rules import _alias_bomb_post

from finews.parsing.source import read_source
from finews.replica import generate_posts

CROSS_FIELDS = ("info_code", "title", "category", "source", "body_text", "stocks")
PAIR = "2021-12-08-202112082206672930.md"  # _posts and old_post copies with different text


def posts_crawl(tmp_path, *args, mongo=None, database=None):
    return run_crawl("http://unused.invalid/", tmp_path, *args, spider="posts", mongo=mongo, database=database)


def test_cross_check_every_post_source_against_its_rendered_page(fixture_crawl, replica, tmp_path):
    imported = posts_crawl(tmp_path, "-a", f"path={FIXTURE_POSTS}", "-a", f"base_url={replica.url}")
    assert imported.returncode == 0
    by_source = {}
    for item in imported.items:
        by_source.setdefault(item["info_code"], []).append(item)
    pages = fixture_crawl.by_code()
    published = {p.info_code: p for p in published_posts() if p.info_code}
    assert len(pages) == len(reachable_posts()) == 119
    for code, page in pages.items():
        chosen = published[code]
        source = next(i for i in by_source[code] if i["url"] == page["url"])  # the file the site published
        assert {f: source[f] for f in CROSS_FIELDS} == {f: page[f] for f in CROSS_FIELDS}, code
        raw_date = read_source(chosen.path.read_bytes(), chosen.path.name).front["date"]
        if raw_date.endswith("+0800"):
            assert source["published_at"] == page["published_at"], code
        else:  # Jekyll reads an offset-less date as UTC: the page shows it 8 hours late (README)
            shown = datetime.fromisoformat(page["published_at"]) - timedelta(hours=8)
            assert datetime.fromisoformat(source["published_at"]) == shown, code


def test_broken_files_become_rejects_and_every_file_is_accounted_for(tmp_path):
    result = posts_crawl(tmp_path, "-a", f"path={FIXTURE_POSTS}")
    files = len(list(FIXTURE_POSTS.glob("*/*.md")))
    assert result.stat("finews/posts/files") == files
    reasons = sorted(r["reason"] for r in result.rejects)
    assert reasons == ["missing_info_code", "missing_title"]  # init (no code) and the undated empty-title file
    assert result.stat("finews/dropped/duplicate") + len(result.items) + len(reasons) == files
    assert result.stat("finews/posts/problem/leading_blank_lines") == 2


def test_unreadable_file_is_a_reject_with_its_reason(tmp_path):
    folder = tmp_path / "src" / "_posts"
    folder.mkdir(parents=True)
    (folder / "2022-01-01-202201010000000001.md").write_bytes(b"no front matter here")
    (folder / "2022-01-02-202201020000000001.md").write_bytes(b"---\ntitle: \xff\xfe\x80\n---\n")
    # A relative path, as operators type it (the crawl runs in ROOT).
    result = posts_crawl(tmp_path / "out", "-a", f"path={os.path.relpath(tmp_path / 'src', ROOT)}")
    assert sorted(r["reason"] for r in result.rejects) == ["bad_encoding", "no_front_matter"]
    assert all(r["raw"] is not None for r in result.rejects)
    assert all(r["url"].startswith("file:///") for r in result.rejects)


def test_since_skips_older_file_names(tmp_path):
    result = posts_crawl(tmp_path, "-a", f"path={FIXTURE_POSTS}", "-a", "since=2022-01-01")
    assert result.stat("finews/posts/files") == 6  # 2022 files, and the one whose name has no date
    assert result.stat("finews/posts/skipped_since") == len(list(FIXTURE_POSTS.glob("*/*.md"))) - 6


def test_raw_urls_file(replica, tmp_path):
    urls = tmp_path / "urls.txt"
    urls.write_text(f"{replica.url}raw/old_post/2022-04-01-NW202204012331570959.md\n"
                    f"{replica.url}raw/_posts/2022-05-31-202205312398034850.md\n"
                    f"{replica.url}raw/_posts/2099-01-01-nosuchfile.md\n", encoding="utf-8")
    result = posts_crawl(tmp_path / "out", "-a", f"urls_file={urls}", "-s", "RETRY_TIMES=0")
    assert sorted(i["info_code"] for i in result.items) == ["NW202204012331570959", "NW202205312398034850"]
    assert [r["reason"] for r in result.rejects] == ["read_failed"]


def test_importing_twice_writes_nothing_new(mongo, tmp_path):
    database = mongo.new_database()
    first = posts_crawl(tmp_path / "1", "-a", f"path={FIXTURE_POSTS}", mongo=mongo, database=database)
    articles = mongo.db(database).articles
    snapshot = {d["_id"]: d for d in articles.find({}, {"seen_count": 0, "last_seen_at": 0, "sightings": 0})}
    assert len(snapshot) == first.stat("finews/articles/new") == 122 - 1  # init has no info code
    second = posts_crawl(tmp_path / "2", "-a", f"path={FIXTURE_POSTS}", mongo=mongo, database=database)
    assert second.stat("finews/articles/new") == second.stat("finews/articles/revised") == 0
    assert second.stat("finews/articles/unchanged") == len(second.items)
    assert {d["_id"]: d for d in articles.find({}, {"seen_count": 0, "last_seen_at": 0, "sightings": 0})} == snapshot
    assert "Summary (finished): new 0, unchanged" in second.log


def test_an_import_ends_when_its_last_article_is_stored_not_at_scrapys_next_heartbeat(mongo, tmp_path):
    """Articles of local files come from start(). Scrapy looks for an idle spider when start() ends, and after
    that only at its engine's heartbeat, every 5 s: an import whose last articles were still in the pipelines
    then (waiting for their capture and the store) idled until it. start() now ends once they have left."""
    folder = tmp_path / "posts" / "_posts"
    folder.mkdir(parents=True)
    for path in sorted((FIXTURE_POSTS / "_posts").glob("2021-12-08-*.md"))[:10]:
        (folder / path.name).write_bytes(path.read_bytes())
    result = posts_crawl(tmp_path / "run", "-a", f"path={folder.parent}", mongo=mongo)
    assert result.returncode == 0, result.log[-2000:]
    assert result.stat("finews/articles/new") == 10
    assert result.stat("elapsed_time_seconds") < 5  # Scrapy's heartbeat; 5.0x s every time before


def test_a_slow_store_holds_the_file_reader_back(mongo, tmp_path):
    """Articles of local files come from start(), which Scrapy does not hold back: the spider waits
    itself while CONCURRENT_ITEMS articles sit in the pipelines (here: the store, waiting for MongoDB)."""
    result = posts_crawl(tmp_path, "-a", f"path={FIXTURE_POSTS}", "-s", "CONCURRENT_ITEMS=2",
                         "-s", "FINEWS_MONGO_BATCH_SIZE=2", "-s", "FINEWS_MONGO_MAX_PENDING=2", mongo=mongo)
    assert result.returncode == 0, result.log[-2000:]
    assert result.stat("finews/posts/waited_for_pipelines") > 0
    assert result.stat("finews/articles/new") == 122 - 1
    files = len(list(FIXTURE_POSTS.rglob("*.md")))
    assert result.stat("finews/posts/files_read") == result.stat("finews/posts/files") == files


@pytest.mark.parametrize("order", [("_posts", "old_post"), ("old_post", "_posts"), ("both",)])
@pytest.mark.parametrize("edited", [False, True], ids=["corpus-pair", "edited-later-copy"])
def test_the_later_copy_is_current_whatever_the_order(mongo, tmp_path, order, edited):
    """The corpus pairs differ only in date format and back links (the same text, a later version);
    an edited later copy must become the current text, with the earlier one in revisions."""
    database = mongo.new_database()
    later_text = (FIXTURE_POSTS / "old_post" / PAIR).read_text(encoding="utf-8")
    if edited:
        later_text = later_text.replace("为2018年以来最高水平。", "为2018年以来最高水平（更新）。")
    for step, folder in enumerate(order):
        source = tmp_path / f"in{step}"
        for name in ["_posts", "old_post"] if folder == "both" else [folder]:
            (source / name).mkdir(parents=True)
            text = later_text if name == "old_post" else (FIXTURE_POSTS / name / PAIR).read_text(encoding="utf-8")
            (source / name / PAIR).write_text(text, encoding="utf-8")
        posts_crawl(tmp_path / f"out{step}", "-a", f"path={source}", mongo=mongo, database=database)
    stored = mongo.db(database).articles.find_one({"_id": "NW202112082206672930"})
    later = read_source(later_text.encode(), f"old_post/{PAIR}")
    earlier = read_source((FIXTURE_POSTS / "_posts" / PAIR).read_bytes(), f"_posts/{PAIR}")
    assert later.version > earlier.version
    assert stored["version"] == later.version
    assert stored["published_at"] == datetime.fromisoformat("2021-12-08T10:46:18+08:00")
    if edited:
        assert "（更新）" in stored["body_text"]
        assert [r["version"] for r in stored["revisions"]] == [earlier.version]
        assert "（更新）" not in stored["revisions"][0]["body_text"]
    else:
        assert stored["revisions"] == []


def test_progress_shows_on_a_terminal_and_not_in_cron(tmp_path):
    command = [sys.executable, "-m", "scrapy", "crawl", "posts", "-a", f"path={FIXTURE_POSTS}", "-s", "FINEWS_STORE=0",
               "-s", f"FINEWS_OUTPUT_DIR={tmp_path}", "-s", f"FINEWS_DATA_DIR={tmp_path / 'data'}",
               "-s", "FINEWS_PROGRESS_SECONDS=0.01", "-s", "LOG_LEVEL=INFO",
               "-s", "DOWNLOAD_DELAY=0.01"]
    quiet = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert "ETA" not in quiet.stderr and "Summary (finished)" in quiet.stderr
    controller, terminal = pty.openpty()
    shown = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=terminal, check=False)
    os.close(terminal)
    output = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.close(controller)
    assert shown.returncode == 0
    assert b"/176 files" in output and b"ETA" in output


def test_special_files_links_out_and_alias_bombs_are_rejects_and_the_import_goes_on(tmp_path):
    """Fault drills: a FIFO named *.md hung the import for ever (time limit and SIGTERM did nothing), a link to
    /dev/zero was read until MemoryError, a link out of the folder put /etc/passwd into rejects.raw, and 436 bytes
    of YAML anchors made a 522 MB title. Among 20 good sources each is now a reject naming its file."""
    source = tmp_path / "src"
    generate_posts(source, 20)
    folder = source / "_posts"
    os.mkfifo(folder / "2022-05-31-NW202205310000000001.md")
    (folder / "2022-05-31-NW202205310000000002.md").symlink_to("/dev/zero")
    secret = tmp_path / "outside.md"
    secret.write_text("SECRET-OUTSIDE\n", encoding="utf-8")
    (folder / "2022-05-31-NW202205310000000003.md").symlink_to(secret)
    _alias_bomb_post(folder / "2022-05-31-NW202205310000000004.md", "NW202205310000000004")
    (folder / "2022-05-31-NW202205310000000005.md").write_text("---\n" + "x" * 20_000 + "\n", encoding="utf-8")
    result = run_crawl("http://unused.invalid/", tmp_path / "out", "-a", f"path={source}", "-s",
                       "FINEWS_MAX_SOURCE_BYTES=10000", "-s", "FINEWS_TIME_LIMIT=60", spider="posts", timeout=120)
    assert "'finish_reason': 'finished'" in result.log, result.log[-3000:]  # within its time limit, not cut
    assert len(result.items) == 20, result.log[-3000:]
    named = {r["url"].rsplit("/", 1)[1][-7:-3]: r["reason"] for r in result.rejects}
    assert named == {"0001": "not_a_file", "0002": "outside_folder", "0003": "outside_folder",
                     "0004": "yaml_anchor", "0005": "file_too_large"}, result.rejects
    assert "SECRET-OUTSIDE" not in str(result.rejects) and "SECRET-OUTSIDE" not in result.log
    print("fault drill: RSS max", result.stat("memusage/max"))  # -s shows it; the closing note reports it
    assert result.stat("memusage/max") < 400 * 1024 * 1024
    assert result.returncode in (0, 6), result.log[-2000:]
