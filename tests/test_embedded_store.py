"""The embedded default store as `make crawl` uses it (no MONGO_URI): shared by runs, safe from a SIGKILL."""

from __future__ import annotations

import signal
import socket
import subprocess
import threading
import time
from datetime import datetime

from pymongo import MongoClient
from pymongo.errors import PyMongoError
from test_operations import finews, finews_env, start_finews, wait_for

from finews import outcome
from finews.dates import CST
from finews.replica import Replica, generate_posts
from finews.storage.embedded import EmbeddedServer, free_port


def _servers(data) -> list[str]:
    """Processes (a server or its keeper) serving this data folder, from `ps` as an operator would look."""
    listing = subprocess.run(["ps", "-ww", "-eo", "pid,args"], capture_output=True, text=True, check=True).stdout
    return [line for line in listing.splitlines() if str(data) in line and ("secantus" in line or "keeper" in line)]


def test_spiders_share_the_embedded_store_and_a_killed_run_leaves_nothing_behind(tmp_path):
    site_posts, local, later = tmp_path / "site", tmp_path / "local", tmp_path / "later"
    generate_posts(site_posts, 150)
    generate_posts(local, 300, newest=datetime(2021, 5, 31, 18, 0, tzinfo=CST))
    generate_posts(later, 100, newest=datetime(2020, 5, 31, 18, 0, tzinfo=CST))
    data = tmp_path / "data"
    with Replica(site_posts, latency=0.05) as site:
        env = finews_env(tmp_path, site.url, CONCURRENT_REQUESTS="2")
        assert "MONGO_URI" not in env  # the embedded default, as `make crawl` runs
        # Two spiders started at the same moment: one server, no "already being managed" race.
        runs = [start_finews("crawl", env=env), start_finews("crawl", "posts", "-a", f"path={local}", env=env)]
        assert [run.wait(timeout=300) for run in runs] == [outcome.OK, outcome.OK], [r.stderr.read() for r in runs]
        # A refresh killed mid-crawl while an import runs beside it: the import goes on and ends well.
        killed = start_finews("crawl", "-a", "refresh=1", env=env)
        importing = start_finews("crawl", "posts", "-a", f"path={later}", env=env)
        server = EmbeddedServer(data / "mongo")
        wait_for(lambda: server.running_uri() is not None)
        time.sleep(1.5)
        killed.send_signal(signal.SIGKILL)
        assert killed.wait(timeout=30) == -signal.SIGKILL
        assert importing.wait(timeout=300) == outcome.OK, importing.stderr.read()
        third = finews("crawl", env=env)
        assert third.returncode == outcome.OK, third.stderr
        uri = server.start()  # a reader joins the server, as `finews serve` does
        try:
            db = MongoClient(uri, tz_aware=True).finews
            assert db.articles.count_documents({}) == 550
            assert len(db.articles.distinct("info_code")) == 550
            runs = {(r["spider"], r["status"]) for r in db.crawl_runs.find()}
            assert ("finews", "killed") in runs and not any(status == "running" for _, status in runs), runs
            status = finews("status", env=env)
            assert status.returncode == 0 and "killed" in status.stdout, status.stdout
        finally:
            server.stop()
    # Nobody uses the server any more: its keeper stops it (after a short grace), nothing is left running.
    wait_for(lambda: not _servers(data), timeout=30)
    assert not (data / "mongo" / "finews-server.json").exists()


def test_finews_serve_answers_on_its_port_across_crawls_started_before_and_after_it(tmp_path):
    """The one reader endpoint: a reader polling serve's port is answered during and after a crawl that started
    the server before serve (on a port of its own) and one that started after (and joins it)."""
    generate_posts(tmp_path / "site", 120)
    data = tmp_path / "data"
    with Replica(tmp_path / "site", latency=0.05) as site:
        env = finews_env(tmp_path, site.url, CONCURRENT_REQUESTS="2")
        before = start_finews("crawl", env=env)
        wait_for(lambda: EmbeddedServer(data / "mongo").running_uri() is not None)
        port = free_port()
        serve = start_finews("serve", "--port", str(port), env=env)
        uri = serve.stdout.readline().strip()
        assert uri == f"mongodb://127.0.0.1:{port}/?directConnection=true", serve.stderr.read()
        reads: list[int] = []
        failures: list[str] = []
        done = threading.Event()

        def poll() -> None:
            client = MongoClient(uri, serverSelectionTimeoutMS=3000)
            while not done.is_set():
                try:
                    reads.append(client.finews.articles.count_documents({}))
                except PyMongoError as exc:
                    failures.append(f"{time.strftime('%X')} {exc!r}")
                time.sleep(0.05)
            client.close()

        reader = threading.Thread(target=poll)
        reader.start()
        try:
            assert before.wait(timeout=300) == outcome.OK, before.stderr.read()
            time.sleep(4)  # past the keeper's grace: without serve, the server would stop here
            after = finews("crawl", "-a", "refresh=1", env=env)
            assert after.returncode == outcome.OK, after.stderr
            time.sleep(4)
        finally:
            done.set()
            reader.join()
        assert not failures, failures[:5]
        assert len(reads) > 100 and reads[-1] == 120 and reads == sorted(reads)
        log = (tmp_path / "out" / "finews.log").read_text(encoding="utf-8")
        assert log.count("Joining the SecantusDB server already serving") == 1  # the second crawl used serve's
        assert len(_servers(data)) == 2  # one keeper, one server
        serve.send_signal(signal.SIGINT)
        assert serve.wait(timeout=30) == outcome.OK
    wait_for(lambda: not _servers(data), timeout=30)


def test_finews_serve_says_in_one_line_when_its_port_is_taken_or_a_mongo_uri_is_set(tmp_path):
    env = finews_env(tmp_path, "http://127.0.0.1:9/")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = finews("serve", "--port", str(taken.getsockname()[1]), env=env, timeout=60)
    assert busy.returncode == outcome.USAGE and busy.stderr.count("\n") == 1 and "is in use" in busy.stderr
    elsewhere = finews("serve", env={**env, "MONGO_URI": "mongodb://u:secret@127.0.0.1:9/"}, timeout=60)
    assert elsewhere.returncode == outcome.USAGE and elsewhere.stderr.count("\n") == 1, elsewhere.stderr
    assert "MONGO_URI is set" in elsewhere.stderr and "secret" not in elsewhere.stderr
    assert not (tmp_path / "data" / "mongo").exists()  # nothing was started


def test_the_change_feed_is_bounded_over_many_short_lives_of_the_server(tmp_path):
    """SecantusDB prunes its oplog only every 1,000 entries a server writes (secantus/storage.py,
    _OPLOG_PRUNE_INTERVAL), and a cron run's server writes a few dozen: neither FINEWS_CHANGES_DAYS nor the
    entry bound ever applied, and data/ grew by every change (0.59 GB of 0.91 GB a year). The keeper now asks
    for a prune (SecantusDB's secantusAdmin.pruneOplog) as it starts and stops the server."""
    for life in range(6):  # six short runs, 20 changes each
        server = EmbeddedServer(tmp_path / "mongo", changes_max_entries=30)
        client = MongoClient(server.start())
        try:
            for n in range(20):
                client.finews.articles.insert_one({"_id": f"NW{life:02d}{n:04d}"})
        finally:
            client.close()
            server.shutdown()
    server = EmbeddedServer(tmp_path / "mongo", changes_max_entries=30)
    client = MongoClient(server.start())
    try:
        assert client.finews.articles.count_documents({}) == 120
        assert client.local.oplog.rs.count_documents({}) <= 30 + 5
    finally:
        client.close()
        server.shutdown()
    assert not _servers(tmp_path)
