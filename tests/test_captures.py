"""Raw captures (WARC 1.1 through warcio): checked by warcio's own tools, followed from every article, and the
archive re-derived from them without the network."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import FIXTURE_POSTS, ROOT
from pymongo import MongoClient
from test_operations import finews, finews_env, start_finews

from finews import outcome
from finews.normalize import normalize_article
from finews.parsing.capture import article_from_capture
from finews.replica import Replica, generate_posts
from finews.storage.warc import read_record

WARCIO = str(Path(sys.executable).parent / "warcio")


def warc_files(data: Path) -> list[Path]:
    return sorted((data / "warc").glob("*.warc.gz"))


def warcio(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([WARCIO, *args], capture_output=True, text=True, check=False, timeout=300)


def index(files: list[Path]) -> list[dict]:
    return [json.loads(line) for path in files for line in warcio("index", str(path)).stdout.splitlines()]


def assert_pointers_lead_to_their_text(db, data: Path, site: str) -> int:
    """Every archived article's capture is the record its current text came from: parsed again, the same hash."""
    followed = 0
    for doc in db.articles.find():
        assert doc["capture"], doc["_id"]
        captured = read_record(data / "warc", doc["capture"])
        again = normalize_article(article_from_capture(doc["via"], captured.uri, captured.body, doc, site))
        assert again.content_hash == doc["content_hash"], (doc["_id"], doc["via"], captured.uri)
        followed += 1
    return followed


def test_a_crawl_and_an_import_are_captured_and_every_article_points_at_its_record(mongo, tmp_path):
    database = mongo.new_database()
    with Replica(FIXTURE_POSTS) as site:
        env = finews_env(tmp_path, site.url, mongo, database)
        for args in (("crawl",), ("crawl", "posts", "-a", f"path={FIXTURE_POSTS}")):
            run = finews(*args, env=env)
            assert run.returncode == outcome.OK, run.stderr
    data = tmp_path / "data"
    files = warc_files(data)
    assert files and not list((data / "warc").glob("*.open"))
    for path in files:
        check = warcio("check", "-v", str(path))
        assert check.returncode == 0, check.stdout[-2000:]  # warcio's own checker: digests, record structure
    records = index(files)
    db = MongoClient(mongo.uri, tz_aware=True)[database]
    posts = {doc["url"] for doc in db.articles.find({"seen_via": "post_page"}, {"url": 1})}  # the pages fetched
    responses = {r["warc-target-uri"] for r in records if r["warc-type"] == "response"}
    assert len(posts) > 100 and posts <= responses  # every post page
    sources = {r["warc-target-uri"] for r in records if r["warc-type"] == "resource"}
    assert len([s for s in sources if s.startswith("file://")]) == len(list(FIXTURE_POSTS.rglob("*.md")))
    assert {r["warc-type"] for r in records} >= {"warcinfo", "request", "response", "resource"}
    assert assert_pointers_lead_to_their_text(db, data, site.url) == db.articles.count_documents({}) > 100


def test_reparse_without_the_network_changes_nothing_and_a_flipped_rule_only_what_it_touches(mongo, tmp_path):
    database = mongo.new_database()
    with Replica(FIXTURE_POSTS) as site:
        env = finews_env(tmp_path, site.url, mongo, database)
        assert finews("crawl", env=env).returncode == outcome.OK
        url = site.url
    # The replica is stopped: nothing answers on its port any more.
    db = MongoClient(mongo.uri, tz_aware=True)[database]
    before = {doc["_id"]: doc for doc in db.articles.find()}
    run = finews("reparse", env=env)
    assert run.returncode == outcome.OK, run.stderr
    assert f"reparse: new 0, unchanged {len(before)}, revised 0 (merged 0), rejected 0" in run.stdout, run.stdout
    dry = finews("reparse", "--dry-run", env=env)
    assert dry.returncode == 0 and f"unchanged {len(before)}, would change 0" in dry.stdout, dry.stdout
    assert {doc["_id"]: doc["content_hash"] for doc in db.articles.find()} == {
        code: doc["content_hash"] for code, doc in before.items()}
    # A normalizer rule flipped: full-width colons in titles become ASCII ones.
    flip = ("import sys\nimport finews.normalize as rules\nclean = rules.clean_inline\n"
            "rules.clean_inline = lambda text: clean(text).replace('：', ':')\n"
            "from finews.cli import main\nsys.exit(main(sys.argv[1:]))\n")
    touched = {code for code, doc in before.items() if "：" in doc["title"]}
    assert 0 < len(touched) < len(before)
    dry = subprocess.run([sys.executable, "-c", flip, "reparse", "--dry-run"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300, check=False)
    assert f"would change {len(touched)}," in dry.stdout and f"  title: {len(touched)} " in dry.stdout, dry.stdout
    flipped = subprocess.run([sys.executable, "-c", flip, "reparse"], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=300, check=False)
    assert flipped.returncode == outcome.OK, flipped.stderr
    after = {doc["_id"]: doc for doc in db.articles.find()}
    revised = {code for code, doc in after.items() if len(doc["revisions"]) > len(before[code]["revisions"])}
    assert revised == touched
    assert all(after[code]["title"] == before[code]["title"].replace("：", ":") for code in touched)
    assert all(after[code]["revisions"][0]["kind"] == "replaced" for code in touched)
    assert url  # the replica that was crawled is gone: reparse read only the captures


def test_a_second_crawl_of_an_unchanged_site_adds_almost_nothing(mongo, tmp_path):
    generate_posts(tmp_path / "site", 600)
    with Replica(tmp_path / "site") as site:
        env = finews_env(tmp_path, site.url, mongo)
        assert finews("crawl", env=env).returncode == outcome.OK
        first = sum(p.stat().st_size for p in warc_files(tmp_path / "data"))
        assert finews("crawl", env=env).returncode == outcome.OK
        second = sum(p.stat().st_size for p in warc_files(tmp_path / "data")) - first
    files = warc_files(tmp_path / "data")
    kinds = [r["warc-type"] for r in index(files)]
    print(f"first crawl {first:,} bytes of WARC, the second {second:,} ({second / first:.2%})")
    assert second <= 0.01 * first and "revisit" in kinds
    assert len(files) == 1 and kinds.count("warcinfo") == 2  # the second run appended its part to the first's file
    assert warcio("check", str(files[0])).returncode == 0


def test_a_killed_crawl_leaves_files_warcio_reads_and_no_article_without_its_capture(mongo, tmp_path):
    generate_posts(tmp_path / "site", 400)
    database = mongo.new_database()
    db = MongoClient(mongo.uri, tz_aware=True)[database]
    with Replica(tmp_path / "site", latency=0.02) as site:
        env = finews_env(tmp_path, site.url, mongo, database, CONCURRENT_REQUESTS="4")
        doomed = start_finews("crawl", env=env)
        deadline = time.monotonic() + 120
        while db.articles.count_documents({}) < 50:
            assert time.monotonic() < deadline and doomed.poll() is None
            time.sleep(0.05)
        # As a power cut would: the crawl and its capture writer at once (the writer alone outlives a killed
        # crawl and closes its file cleanly).
        writers = subprocess.run(["pgrep", "-f", f"finews.storage.warc_writer .*{tmp_path}"], capture_output=True,
                                 text=True, check=False).stdout.split()
        assert writers
        for pid in [doomed.pid, *map(int, writers)]:
            os.kill(pid, signal.SIGKILL)
        doomed.wait()
        left_open = list((tmp_path / "data" / "warc").glob("*.open"))
        assert left_open  # the killed run's file, possibly with a torn last record
        again = finews("crawl", env=env)
        assert again.returncode == outcome.OK, again.stderr
        assert "was left open by a killed run: closed" in again.stderr  # one line says what was mended
    assert not list((tmp_path / "data" / "warc").glob("*.open"))
    for path in warc_files(tmp_path / "data"):
        assert warcio("check", str(path)).returncode == 0, path
    assert db.articles.count_documents({}) == 400
    assert db.articles.count_documents({"capture": None}) == 0
    assert_pointers_lead_to_their_text(db, tmp_path / "data", site.url)


def test_a_torn_last_record_is_cut_and_an_unchanged_payload_is_a_revisit(tmp_path):
    from finews.storage.warc import WarcStore  # noqa: PLC0415

    store = WarcStore(tmp_path, 1_000_000_000, {"software": "test"})
    store.open()
    first = store.capture_response("http://h/a.html", 200, "OK", [("Content-Type", "text/html")], b"<p>a</p>" * 50)
    again = store.capture_response("http://h/a.html", 200, "OK", [("Content-Type", "text/html")], b"<p>a</p>" * 50)
    store.sync()
    assert again is first and store.revisits == 1  # the article points at the record holding the payload
    name = first["file"]
    whole = (tmp_path / (name + ".open")).stat().st_size
    store.capture_response("http://h/b.html", 200, "OK", [], b"<p>b</p>" * 500)
    store.sync()
    path = tmp_path / (name + ".open")
    torn = path.read_bytes()[: whole + 40]  # a killed run: the last record half written
    store.close()
    (tmp_path / name).unlink()
    path.write_bytes(torn)
    later = WarcStore(tmp_path, 1_000_000_000, {"software": "test"})
    later.open()
    later.close()
    assert later.recovered == 1 and (tmp_path / name).stat().st_size == whole and not path.exists()
    assert warcio("check", str(tmp_path / name)).returncode == 0
    revisit = [r for r in index([tmp_path / name]) if r["warc-type"] == "revisit"]
    assert len(revisit) == 1
    headers = subprocess.run([WARCIO, "extract", "--headers", str(tmp_path / name), revisit[0]["offset"]],
                             capture_output=True, text=True, check=True).stdout
    assert "WARC-Profile: http://netpreserve.org/warc/1.1/revisit/identical-payload-digest" in headers
    assert f"WARC-Refers-To: {first['record_id']}" in headers


def test_a_killed_crawl_s_writer_closes_its_file(mongo, tmp_path):
    """SIGKILL to the crawl alone: its capture writer sees its input end and closes the file as a stop would."""
    generate_posts(tmp_path / "site", 200)
    database = mongo.new_database()
    db = MongoClient(mongo.uri, tz_aware=True)[database]
    with Replica(tmp_path / "site", latency=0.02) as site:
        doomed = start_finews("crawl", env=finews_env(tmp_path, site.url, mongo, database, CONCURRENT_REQUESTS="4"))
        deadline = time.monotonic() + 120
        while db.articles.count_documents({}) < 20:
            assert time.monotonic() < deadline and doomed.poll() is None
            time.sleep(0.05)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
    deadline = time.monotonic() + 30
    while list((tmp_path / "data" / "warc").glob("*.open")):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    files = warc_files(tmp_path / "data")
    assert files and all(warcio("check", str(path)).returncode == 0 for path in files)


def test_the_writer_answers_each_batch_in_order_and_a_torn_batch_closes_its_file(tmp_path):
    """The crawl killed while it wrote a batch to its writer: the writer keeps the batches that came whole,
    answers them in order, and closes its file as a stop would."""
    import io  # noqa: PLC0415
    import pickle  # noqa: PLC0415

    from finews.storage.warc import payload_digest  # noqa: PLC0415
    from finews.storage.warc_writer import serve  # noqa: PLC0415

    def job(n: int) -> dict:
        body = f"# post {n}\n".encode() * 20
        return {"kind": "resource", "uri": f"file:///posts/{n}.md", "body": body, "digest": payload_digest(body),
                "record_id": f"<urn:uuid:00000000-0000-0000-0000-{n:012d}>", "date": "2026-12-06T00:00:00.000000Z",
                "status": 200, "reason": "", "headers": [], "method": "GET", "request_headers": [],
                "content_type": "text/markdown", "extra": {}, "earlier_id": None, "earlier_date": None}

    whole = pickle.dumps([("record", job(1)), ("record", job(2)), ("sync", 7)])
    torn = pickle.dumps([("record", job(3))])[:-20]
    results = io.BytesIO()
    config = {"folder": str(tmp_path), "max_bytes": 1_000_000_000, "info": {"software": "test"}, "prefix": "finews"}
    serve(config, io.BytesIO(whole + torn), results)
    results.seek(0)
    answers = pickle.load(results)
    assert [a[0] for a in answers] == ["located", "located", "synced"]
    assert [a[1] for a in answers] == [job(1)["record_id"], job(2)["record_id"], 7]
    assert answers[0][3] < answers[1][3] and answers[2][2] is None
    assert not list(tmp_path.glob("*.open"))
    files = sorted(tmp_path.glob("*.warc.gz"))
    assert len(files) == 1 and warcio("check", str(files[0])).returncode == 0
    assert [r["warc-type"] for r in index(files)] == ["warcinfo", "resource", "resource"]


def test_a_run_appends_to_the_newest_file_under_the_limit_and_never_to_one_another_run_holds(tmp_path):
    """A cron run every few minutes must not leave a file each: it appends to the newest closed file under
    FINEWS_WARC_MAX_BYTES; a full file, or one another run writes, gets a new file beside it."""
    import fcntl  # noqa: PLC0415

    from finews.storage.warc import WarcStore  # noqa: PLC0415

    def run(n: int, max_bytes: int = 1_000_000_000) -> dict:
        store = WarcStore(tmp_path, max_bytes, {"software": "test"})
        store.open()
        where = store.capture_resource(f"file:///posts/{n}.md", f"# post {n}\n".encode() * 40, "text/markdown")
        store.sync()
        store.close()
        return where

    first, second = run(1), run(2)
    assert second["file"] == first["file"] and second["offset"] > first["offset"]
    assert len(list(tmp_path.glob("*.warc.gz"))) == 1
    size = (tmp_path / first["file"]).stat().st_size
    third = run(3, max_bytes=size)  # the newest file is full: a new one
    assert third["file"] != first["file"]
    held = (tmp_path / third["file"]).open("rb")
    fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another run (a second worker) is about to write it
    try:
        fourth = run(4)
    finally:
        held.close()
    assert fourth["file"] not in (first["file"], third["file"])
    files = sorted(tmp_path.glob("*.warc.gz"))
    assert len(files) == 3 and not list(tmp_path.glob("*.open"))
    assert all(warcio("check", str(path)).returncode == 0 for path in files)
    assert [r["warc-type"] for r in index([tmp_path / first["file"]])] == ["warcinfo", "resource"] * 2
    for n, where in enumerate((first, second, third, fourth), start=1):
        assert read_record(tmp_path, where).uri == f"file:///posts/{n}.md"
