"""Every query docs/schema.md documents, on 10,000 and on 100,000 articles of the embedded store, in one run.

For each row of the schema's index table: documents returned (limit 20), admitted by its filter, examined
(explain's executionStats), the index the plan reads, and the median time at both sizes. Targets: examined no
more than about twice what is admitted, and the time at 100,000 within 1.5x of the time at 10,000 (the cost
follows what a query returns, not the archive's size). tests/test_store_rules.py asserts the same counts
at 10,000; timings are printed here only.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bson import json_util
from pymongo import MongoClient

from finews.storage.archive import ARTICLE_INDEXES, REJECT_INDEXES, RUN_INDEXES
from finews.storage.embedded import EmbeddedServer

ROOT = Path(__file__).resolve().parent.parent
END = datetime(2022, 5, 2, tzinfo=UTC)
CATEGORIES = ["emnews", *(f"category{n}" for n in range(19))]


def documented_queries() -> list[tuple[str, str, str, str]]:
    """(collection, filter, sort, index) of every row of docs/schema.md's index table."""
    text = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    section = text.split("### Indexes, and the queries they serve", 1)[1].split("\n### ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] in ("articles", "rejects", "crawl_runs", "listings"):
            rows.append(tuple(cells[:4]))
    return rows


def fill(db, count: int) -> None:
    """``count`` articles, rejects and run records, one every 50 minutes back from 2022-05-02 (about 30 a
    day): each documented range from 2022-05-01 on admits a day or two of them whatever the count."""
    for start in range(0, count, 10_000):
        articles, rejects, runs = [], [], []
        for n in range(start, min(count, start + 10_000)):
            moment = END - timedelta(minutes=50 * n)
            articles.append({"_id": f"NW{n:018d}", "category": CATEGORIES[n % 20], "published_at": moment,
                             "first_seen_at": moment, "last_seen_at": moment, "updated_at": moment,
                             "source": "华夏时报" if n % 100 == 0 else f"media{n % 100}",
                             "title": f"标题{n}", "body_text": "正文" * 200,
                             "stocks": [{"code": "601169" if n % 200 == 0 else f"{n % 200:06d}", "market": 1}],
                             "linked_stocks": [{"code": "300115" if n % 100 == 0 else f"{n % 100:06d}",
                                                "market": 0, "name": None}],
                             "share_status": "failed" if n % 100 == 0 else "ok",
                             "share_checked_at": moment if n % 100 == 0 else None})
            rejects.append({"time": moment, "reason": "missing_title" if n % 100 == 0 else f"reason{n % 100}"})
            runs.append({"spider": ("finews", "posts", "share")[n % 3], "started_at": moment, "status": "finished",
                         "host": "h", "kind": "incremental", "yardstick": False})
        db.articles.insert_many(articles)
        db.rejects.insert_many(rejects)
        db.crawl_runs.insert_many(runs)
    db.articles.create_indexes(ARTICLE_INDEXES)
    db.rejects.create_indexes(REJECT_INDEXES)
    db.crawl_runs.create_indexes(RUN_INDEXES)
    db.listings.insert_one({"_id": "https://finews.withounder.com/", "etag": "x"})


def measure(db, collection: str, filter_: str, sort: str, _index: str, repeat: int) -> dict:
    query = json_util.loads(filter_)

    def cursor():
        found = db[collection].find(query)
        if sort:
            found = found.sort(list(json_util.loads(sort).items()))
        return found.limit(20)

    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        returned = len(list(cursor()))
        times.append(time.perf_counter() - started)
    explained = cursor().explain()
    plan = str(explained["queryPlanner"]["winningPlan"])
    index = re.search(r"'indexName': '([^']+)'", plan)
    return {"returned": returned, "admitted": db[collection].count_documents(query),
            "examined": explained["executionStats"]["totalDocsExamined"],
            "index": index.group(1) if index else ("_id_" if "IDHACK" in plan else "COLLSCAN"),
            "ms": 1000 * statistics.median(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        server = EmbeddedServer(Path(folder) / "mongo")
        client = MongoClient(server.start(), tz_aware=True)
        try:
            results = {}
            for size in (args.small, args.large):
                started = time.perf_counter()
                db = client[f"q{size}"]
                fill(db, size)
                print(f"{size:,} articles (and as many rejects and runs) written in "
                      f"{time.perf_counter() - started:.0f} s", flush=True)
                results[size] = [measure(db, *row, args.repeat) for row in documented_queries()]
        finally:
            client.close()
            server.stop()
    print(f"\n{'collection':<11} {'filter':<58} {'index':<32} {'ret':>3} {'adm':>4} {'exam':>4} "
          f"{'ms@' + str(args.small // 1000) + 'k':>7} {'ms@' + str(args.large // 1000) + 'k':>8} {'ratio':>5}")
    worst = 0.0
    for row, small, large in zip(documented_queries(), results[args.small], results[args.large], strict=True):
        ratio = large["ms"] / small["ms"] if small["ms"] else 0.0
        worst = max(worst, ratio)
        print(f"{row[0]:<11} {row[1][:58]:<58} {large['index'][:32]:<32} {large['returned']:>3} "
              f"{large['admitted']:>4} {large['examined']:>4} {small['ms']:>7.1f} {large['ms']:>8.1f} {ratio:>5.2f}")
        if large["examined"] > 2 * large["admitted"] + 5:
            print(f"  ^ examines {large['examined']} for {large['admitted']} admitted: over the target")
    print(f"\nworst time ratio {args.large:,} vs {args.small:,} articles: {worst:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
