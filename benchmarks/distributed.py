"""One worker against two on the same crawl, in one run: wall time and ratio.

A replica of N generated posts answers every request after a fixed latency, so the
crawl is network-bound as on the real site; each worker keeps CONCURRENT_REQUESTS
requests in flight. The same crawl runs with one worker, then with two sharing a
Redis (a redis-server started here) and one SecantusDB archive.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
from pymongo import MongoClient

from finews.replica import Replica, generate_posts
from finews.storage.embedded import EmbeddedServer, free_port

ROOT = Path(__file__).resolve().parent.parent


def crawl(workers: int, site: str, mongo: str, database: str, redis_url: str, work: Path, concurrency: int) -> float:
    redis.Redis.from_url(redis_url).flushdb()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("FINEWS_")},
           "SCRAPY_SETTINGS_MODULE": "finews.settings", "FINEWS_REDIS_URL": redis_url,
           "FINEWS_REDIS_IDLE_SECONDS": "2", "MONGO_URI": mongo, "FINEWS_MONGO_DATABASE": database,
           "FINEWS_BASE_URL": site, "FINEWS_SHARE_BASE_URL": site}
    started = time.monotonic()
    processes = [
        subprocess.Popen([sys.executable, "-m", "finews.cli", "crawl", "-a", "share=0",
                          "-s", f"CONCURRENT_REQUESTS={concurrency}",
                          "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={concurrency}"],
                         cwd=ROOT, stdout=subprocess.DEVNULL,
                         env={**env, "FINEWS_DATA_DIR": str(work / f"{database}-{i}"),
                              "FINEWS_OUTPUT_DIR": str(work / f"{database}-{i}-out")})
        for i in range(workers)
    ]
    codes = [p.wait() for p in processes]
    if any(codes):
        raise SystemExit(f"a worker failed: {codes}")
    return time.monotonic() - started - 2  # less the idle wait before the last worker closes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds the replica adds to every answer")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight per worker")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="finews-distributed-bench-"))
    generate_posts(work / "posts", args.posts)
    port = free_port()
    redis_server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                     "--appendonly", "no"], stdout=subprocess.DEVNULL)
    mongo_server = EmbeddedServer(work / "mongo")
    try:
        mongo = mongo_server.start()
        redis_url = f"redis://127.0.0.1:{port}/0"
        with Replica(work / "posts", latency=args.latency) as site:
            one = crawl(1, site.url, mongo, "one", redis_url, work, args.concurrency)
            two = crawl(2, site.url, mongo, "two", redis_url, work, args.concurrency)
        client = MongoClient(mongo)
        counts = [client[name].articles.count_documents({}) for name in ("one", "two")]
    finally:
        mongo_server.stop()
        redis_server.terminate()
    print(f"{args.posts} posts, {args.latency * 1000:.0f} ms per answer, "
          f"{args.concurrency} requests in flight per worker")
    print(f"1 worker : {one:7.1f} s  ({counts[0]} articles)")
    print(f"2 workers: {two:7.1f} s  ({counts[1]} articles)")
    print(f"speed-up 1 -> 2 workers: {one / two:.2f}x")


if __name__ == "__main__":
    main()
