"""Write speed of the storage pipeline against the server's own ceiling, in one run on one server.

Starts a SecantusDB server (or uses --mongo-uri), makes N articles from
generated post sources, and writes them into fresh databases three ways:
1. ceiling: a raw unordered ``bulk_write`` of upserts of the same documents, one client,
   batches of FINEWS_MONGO_BATCH_SIZE, into a collection with the archive's indexes;
2. pipeline: finews' StorePipeline (journal, batching, read-merge-write bookkeeping, worker thread);
3. per item: one ``update_one(upsert=True)`` per article.
Prints articles/s of each and the ratios (targets: pipeline ≥ 0.8 × ceiling, well ahead of per item).
Then the incremental re-crawl cost: a crawl of a replica, K posts added, a second crawl, and the
requests the second crawl made per new article (target: listing pages + 1 per new post).
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pymongo import MongoClient, UpdateOne
from scrapy.utils.test import get_crawler
from twisted.internet import defer, task

from finews.defaults import DEFAULTS
from finews.normalize import normalize_article
from finews.parsing.source import article_from_source, read_source
from finews.pipelines.store import StorePipeline
from finews.replica import Replica, generate_posts
from finews.storage.archive import ARTICLE_INDEXES
from finews.storage.documents import to_document
from finews.storage.embedded import EmbeddedServer

ROOT = Path(__file__).resolve().parent.parent
BATCH = 200


def make_articles(folder: Path, count: int) -> list:
    paths = generate_posts(folder, count, seed=11)
    return [normalize_article(article_from_source(read_source(p.read_bytes(), p.name))) for p in paths]


def ceiling(client: MongoClient, docs: list[dict]) -> float:
    collection = client["bench_ceiling"].articles
    collection.create_indexes(ARTICLE_INDEXES)  # the same indexes the archive keeps: they cost the server
    started = time.perf_counter()
    for start in range(0, len(docs), BATCH):
        ops = [UpdateOne({"_id": d["_id"]}, {"$set": d}, upsert=True) for d in docs[start:start + BATCH]]
        collection.bulk_write(ops, ordered=False)
    return time.perf_counter() - started


def per_item(client: MongoClient, docs: list[dict]) -> float:
    collection = client["bench_per_item"].articles
    collection.create_indexes(ARTICLE_INDEXES)
    started = time.perf_counter()
    for doc in docs:
        collection.update_one({"_id": doc["_id"]}, {"$set": doc}, upsert=True)
    return time.perf_counter() - started


def pipeline(uri: str, articles: list, workdir: Path) -> float:
    settings = {
        "MONGO_URI": uri, "FINEWS_MONGO_DATABASE": "bench_pipeline", "FINEWS_DATA_DIR": str(workdir / "data"),
        "FINEWS_MONGO_BATCH_SIZE": BATCH, "FINEWS_MONGO_FLUSH_SECONDS": 1.0,
    }
    elapsed: list[float] = []

    @defer.inlineCallbacks
    def run(_reactor):
        crawler = get_crawler(settings_dict={**DEFAULTS, **settings})
        store = StorePipeline.from_crawler(crawler)
        yield defer.ensureDeferred(store.open_spider())
        started = time.perf_counter()
        for article in articles:  # as Scrapy calls a coroutine process_item: awaited item by item
            yield defer.ensureDeferred(store.process_item(article))
        yield defer.ensureDeferred(store.close_spider())
        elapsed.append(time.perf_counter() - started)
        store.archive.close()

    _react(run)
    return elapsed[0]


def _react(function) -> None:
    try:
        task.react(function)
    except SystemExit as exit_:
        if exit_.code:
            raise


def recrawl_cost(uri: str, workdir: Path, posts: int, added: int) -> tuple[int, int, int]:
    """(requests of the second crawl, listing requests among them, new articles it archived)."""
    folder = workdir / "site"
    generate_posts(folder, posts, seed=5)
    database = "bench_recrawl"
    with Replica(folder) as site:
        _crawl(site.url, uri, database, workdir / "first")
        newest = sorted((folder / "_posts").glob("*.md"))[-1]
        for number in range(added):
            text = newest.read_text(encoding="utf-8")
            code = re.search(r"(\d{18})", newest.name)[1]
            new_code = f"20220601{int(code[8:]) + 7_000_000 + number:010d}"
            (folder / "_posts" / f"2022-06-01-{new_code}.md").write_text(
                text.replace(code, new_code).replace("2022-05-31", "2022-06-01"), encoding="utf-8")
        site.site.reload()
        site.reset_counters()
        log = _crawl(site.url, uri, database, workdir / "second")
        total = sum(site.hits.values())
        listings = site.count("listing") + site.count("feed")
    new = int(re.search(r"'finews/articles/new': (\d+)", log)[1])
    return total, listings, new


def _crawl(base_url: str, uri: str, database: str, out: Path) -> str:
    out.mkdir(parents=True)
    log = out / "crawl.log"
    subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "finews", "-a", f"base_url={base_url}", "-s", f"MONGO_URI={uri}",
         "-s", f"FINEWS_MONGO_DATABASE={database}", "-s", f"FINEWS_DATA_DIR={out / 'data'}",
         "-s", "AUTOTHROTTLE_ENABLED=0", "-s", f"LOG_FILE={log}", "-s", "ROBOTSTXT_OBEY=0", "-a", "feed=1",
         "-a", "share=0"],
        cwd=ROOT, check=True,
    )
    return log.read_text(encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--mongo-uri", help="a running server (default: a SecantusDB started here)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="finews-store-bench-"))
    server = None if args.mongo_uri else EmbeddedServer(workdir / "mongo")
    uri = args.mongo_uri or server.start()
    try:
        client = MongoClient(uri, tz_aware=True)
        articles = make_articles(workdir / "posts", args.articles)
        docs = [to_document(dataclasses.asdict(a)) for a in articles]
        n = len(docs)
        raw = ceiling(client, docs)
        ours = pipeline(uri, articles, workdir)
        single = per_item(client, docs)
        stored = client["bench_pipeline"].articles.count_documents({})
        print(f"server: {'SecantusDB (embedded)' if server else uri}; {n} articles of ~"
              f"{sum(len(d['body_html']) for d in docs) // n} characters of HTML")
        print(f"ceiling  raw bulk_write          {n / raw:8.1f} articles/s")
        print(f"pipeline StorePipeline           {n / ours:8.1f} articles/s  ({stored} stored)")
        print(f"per item update_one              {n / single:8.1f} articles/s")
        print(f"pipeline / ceiling = {raw / ours:.2f} (target >= 0.8); pipeline / per item = {single / ours:.1f}x")
        total, listings, new = recrawl_cost(uri, workdir, posts=300, added=5)
        print(f"incremental re-crawl: {total} requests ({listings} listing/feed, {total - listings} other) "
              f"for {new} new articles = {total / max(new, 1):.1f} requests per new article "
              f"(target: {listings} listings + 1 per new post = {(listings + new) / max(new, 1):.1f})")
    finally:
        if server:
            server.stop()


if __name__ == "__main__":
    main()
