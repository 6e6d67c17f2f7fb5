"""Several workers, one crawl: scrapy-redis against a real redis-server and the real archive."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request

import pytest
import redis
import scrapy
from conftest import ROOT
from scrapy_redis import picklecompat

from finews.codes import canonical_info_code
from finews.parsing.listing import feed_links, page_links
from finews.parsing.urls import post_path
from finews.replica import Replica, generate_posts

POSTS = 2000


@pytest.fixture(scope="module")
def big_site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("distributed-site")
    generate_posts(folder, POSTS)
    with Replica(folder, latency=0.005) as server:
        yield server


@pytest.fixture(autouse=True)
def fresh_redis(redis_url):
    """Each test is a crawl of its own into a new archive: no session of an earlier test to join."""
    redis.Redis.from_url(redis_url).flushdb()


def worker(url: str, mongo, database: str, redis_url: str, folder, *extra: str) -> subprocess.Popen:
    env = {"SCRAPY_SETTINGS_MODULE": "finews.settings", "PATH": "/usr/bin:/bin",
           "FINEWS_REDIS_URL": redis_url, "FINEWS_REDIS_IDLE_SECONDS": "6", "FINEWS_REDIS_SESSION_SECONDS": "10",
           "MONGO_URI": mongo.uri, "FINEWS_MONGO_DATABASE": database, "FINEWS_DATA_DIR": str(folder / "data"),
           "FINEWS_OUTPUT_DIR": str(folder / "out"), "FINEWS_BASE_URL": url, "FINEWS_SHARE_BASE_URL": url,
           "FINEWS_MONGO_FLUSH_SECONDS": "0.5"}
    return subprocess.Popen([sys.executable, "-m", "finews.cli", "crawl", "-a", "share=0", *extra], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def listed_codes(url: str) -> set[str]:
    """The info codes a listing page of the (unchanged) replica names, read as the spider reads them."""
    with urllib.request.urlopen(url) as answer:
        body = answer.read()
    links = feed_links(body, url) if url.endswith("feed.xml") else page_links(body, url)
    paths = (post_path(link) for link in links)
    return {canonical_info_code(path.name) for path in paths if path is not None} - {None}


def test_two_workers_share_one_crawl(big_site, mongo, redis_url, tmp_path):
    database = mongo.new_database()
    big_site.reset_counters()
    workers = [worker(big_site.url, mongo, database, redis_url, tmp_path / f"w{i}") for i in range(2)]
    assert [w.wait(timeout=600) for w in workers] == [0, 0], [w.stderr.read()[-2000:] for w in workers]
    articles = mongo.db(database).articles
    assert articles.count_documents({}) == POSTS
    assert big_site.count("post") == POSTS  # no post page was fetched twice
    runs = list(mongo.db(database).crawl_runs.find())
    shares = sorted(r["stats"].get("item_scraped_count", 0) for r in runs)
    assert len(runs) == 2 and sum(shares) == POSTS and shares[0] > POSTS * 0.05  # both did a real share
    assert {r["pid"] for r in runs} == {w.pid for w in workers}
    assert all(r["stats"]["finews/redis/queue_left"] == 0 for r in runs)


def test_a_killed_worker_leaves_the_other_to_finish(big_site, mongo, redis_url, tmp_path):
    database = mongo.new_database()
    articles = mongo.db(database).articles
    client = redis.Redis.from_url(redis_url)
    survivor = worker(big_site.url, mongo, database, redis_url, tmp_path / "a", "-s", "CONCURRENT_REQUESTS=4")
    doomed = worker(big_site.url, mongo, database, redis_url, tmp_path / "b", "-s", "CONCURRENT_REQUESTS=4")
    deadline = time.monotonic() + 120
    while articles.count_documents({}) < 300:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    assert survivor.wait(timeout=600) == 0, survivor.stderr.read()[-2000:]
    assert client.zcard("finews:finews:requests") == 0  # the queue was finished
    # What the killed worker held (requests in flight, responses waiting for its parser, articles in its
    # journal, which only its own next run replays) is lost for this session only: the survivor keeps no
    # validators for listings naming missing posts, and once the session's fingerprints expire, the next
    # run reads those listings again and fetches exactly the posts still missing.
    # The listings naming the missing posts may have been read by the killed worker alone (then the survivor
    # saved nothing for them), so the check is on what was saved, not on the survivor's warning.
    missing = POSTS - articles.count_documents({})
    archived = {d["info_code"] for d in articles.find({}, {"info_code": 1})}
    for listing in mongo.db(database).listings.find():
        assert listed_codes(listing["_id"]) <= archived, f"{listing['_id']} names posts the archive lacks"
    time.sleep(11)
    assert not client.keys("finews:finews:seen:*")  # the fingerprints expired with the session
    big_site.reset_counters()
    again = worker(big_site.url, mongo, database, redis_url, tmp_path / "c")
    assert again.wait(timeout=600) == 0
    assert articles.count_documents({}) == POSTS
    assert big_site.count("post") == missing


def test_an_idle_worker_waits_its_window_for_work_then_closes(mongo, redis_url, tmp_path):
    """Work pushed by another worker within FINEWS_REDIS_IDLE_SECONDS is taken; after the window the worker
    closes when the window ends, not at the engine's next 5 s heartbeat."""
    generate_posts(tmp_path / "posts", 3)
    with Replica(tmp_path / "posts") as site:
        database = mongo.new_database()
        alone = worker(site.url, mongo, database, redis_url, tmp_path / "w", "-s", "LOG_LEVEL=DEBUG",
                       "-s", "FINEWS_REDIS_IDLE_SECONDS=2")
        deadline = time.monotonic() + 60
        while mongo.db(database).articles.count_documents({}) < 3:  # its own crawl is done: it waits now
            assert time.monotonic() < deadline and alone.poll() is None
            time.sleep(0.1)
        assert alone.poll() is None
        # Another worker's request, as scrapy-redis's priority queue stores it.
        late = scrapy.Request(f"{site.url}robots.txt?late=1", dont_filter=True).to_dict()
        redis.Redis.from_url(redis_url).zadd("finews:finews:requests", {picklecompat.dumps(late): 0})
        assert alone.wait(timeout=60) == 0, alone.stderr.read()[-2000:]
    log = (tmp_path / "w" / "out" / "finews.log").read_text(encoding="utf-8")
    assert "robots.txt?late=1" in log  # taken from the shared queue while it waited
    stamps = [line[:19] for line in log.splitlines() if "Crawled (" in line or "Closing spider" in line]
    last_work, closing = (time.mktime(time.strptime(s, "%Y-%m-%d %H:%M:%S")) for s in stamps[-2:])
    assert "Closing spider (finished)" in log
    assert 1 <= closing - last_work <= 4  # the 2 s window (log stamps are whole seconds), not a 5 s heartbeat later
