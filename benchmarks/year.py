"""A year of cron runs on the embedded default store, in one run: what grows, and what it costs.

1. Run records: `finews status` and the yield monitor's query with 100 records, then with a year of them
   (one run every 5 minutes: 105,120, plus 5,000 older than a year), each the median of several; the ratio
   (target <= 1.5). Then one run, and the records it keeps (target: FINEWS_RUNS_KEEP_DAYS' window).
2. --runs short runs (`finews crawl posts`, each importing --posts-per-run new post sources, as cron would
   meet new posts), the embedded server started and stopped by each run as cron's are. Every --every runs:
   the oplog's entries (the change feed, bounded by FINEWS_CHANGES_MAX_ENTRIES, given small here so the
   bound is reached), the data folder's bytes and the archive's own BSON bytes, the raw captures' bytes
   and files; then the data folder's growth per run against the archive's (target: bounded, the oplog flat
   once at its bound; the captures in a file or a few, not a file a run).
3. A run with nothing new: `finews crawl finews` of an unchanged replica after a first crawl of it (median
   of --quiet-runs): what a cron run on a quiet site costs, in time and in WARC bytes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import bson
from pymongo import MongoClient

from finews.replica import Replica, generate_posts
from finews.storage.archive import Archive
from finews.storage.embedded import EmbeddedServer

ROOT = Path(__file__).resolve().parent.parent


def finews(env: dict, *args: str) -> float:
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "finews.cli", *args], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=False)
    if run.returncode != 0:
        sys.exit(f"finews {' '.join(args)}: exit {run.returncode}\n{run.stdout[-2000:]}{run.stderr[-2000:]}")
    return time.perf_counter() - started


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def warc_figures(data: Path) -> tuple[int, int]:
    """(bytes, files) of the raw captures: what a year of cron runs adds beside the store."""
    files = list((data / "warc").glob("*.warc.gz*"))
    return sum(p.stat().st_size for p in files), len(files)


def run_records(count: int, end: datetime) -> list[dict]:
    """``count`` finished runs, one every 5 minutes up to ``end``, as cron's mix makes them (most have nothing
    to do; one in seven is a yardstick for the yield monitor)."""
    spiders = (("finews", "incremental"), ("finews", "incremental"), ("finews", "refresh"), ("posts", "import"),
               ("share", "missing"))
    records = []
    for n in range(count):
        spider, kind = spiders[n % len(spiders)]
        inputs = 0 if n % 7 else 25
        records.append({"spider": spider, "kind": kind, "started_at": end - timedelta(minutes=5 * (count - n)),
                        "status": "finished", "host": "elsewhere", "pid": 1, "exit_status": 0, "errors": 0,
                        "yardstick": inputs > 0, "stats": {"finews/inputs": inputs, "item_scraped_count": inputs,
                                                           "elapsed_time_seconds": 3.2}})
    return records


def timed(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def records_part(env: dict, data: Path, database: str, keep_days: float, max_entries: int) -> None:
    server = EmbeddedServer(data / "mongo", changes_max_entries=max_entries)
    uri = server.start()
    archive = Archive(uri, database)
    archive.open()
    now = datetime.now(UTC)

    def measure(label: str) -> tuple[float, float, float]:
        status = statistics.median(finews(env, "status") for _ in range(3))
        recent = timed(lambda: archive.recent_runs(10, keep_days), 20)
        monitor = timed(lambda: archive.comparable_runs("finews", "incremental", 10, keep_days,
                                                        {"stats.finews/inputs": 1}), 20)
        count = archive.db.crawl_runs.count_documents({})
        print(f"  {count:7,} records: finews status {status:6.2f} s; its query {recent * 1000:7.2f} ms; "
              f"yield monitor's query {monitor * 1000:7.2f} ms ({label})")
        return status, recent, monitor

    try:
        archive.db.crawl_runs.insert_many(run_records(100, now))
        small = measure("100")
        older = run_records(365 * 24 * 12 + 5000, now - timedelta(minutes=500))  # a year, and 5,000 older still
        for start in range(0, len(older), 20_000):
            archive.db.crawl_runs.insert_many(older[start:start + 20_000])
        large = measure("a year")
        for name, a, b in zip(("finews status", "status query", "yield monitor query"), small, large, strict=True):
            print(f"  {name}: a year / 100 records = {b / a:.2f} (target <= 1.5)")
    finally:
        archive.close()
        server.stop()


def store_counts(data: Path, database: str, max_entries: int) -> tuple[int, int, int]:
    """(oplog entries, the archive's BSON bytes, the data folder's bytes), the server started for the reading
    with the runs' own bound (whoever starts the server sets it; the next run may join it)."""
    server = EmbeddedServer(data / "mongo", changes_max_entries=max_entries)
    uri = server.start()
    client = MongoClient(uri)
    try:
        entries = client.local.oplog.rs.estimated_document_count()
        archive = sum(len(bson.encode(doc)) for name in ("articles", "rejects", "crawl_runs", "listings", "meta")
                      for doc in client[database][name].find())
    finally:
        client.close()
        server.stop()
    return entries, archive, folder_bytes(data / "mongo")


def quiet_part(env: dict, work: Path, quiet_runs: int) -> None:
    print(f"3. a run with nothing new (median of {quiet_runs})")
    site = work / "site"
    generate_posts(site, 50, seed=9)
    with Replica(site) as replica:
        quiet_env = {**env, "FINEWS_BASE_URL": replica.url, "FINEWS_SHARE_BASE_URL": replica.url,
                     "FINEWS_DATA_DIR": str(work / "quiet-data")}  # a store of its own: these posts are new to it
        first_crawl = finews(quiet_env, "crawl")
        first_warc, _ = warc_figures(work / "quiet-data")
        quiet = statistics.median(finews(quiet_env, "crawl") for _ in range(quiet_runs))
        quiet_warc, quiet_files = warc_figures(work / "quiet-data")
    print(f"  first crawl of a 50-post replica {first_crawl:.2f} s; a run with nothing new {quiet:.2f} s")
    added = (quiet_warc - first_warc) / quiet_runs
    print(f"  WARC: the first crawl {first_warc:,} bytes; a run with nothing new adds {added:,.0f} bytes "
          f"({quiet_runs + 1} runs: {quiet_files} file(s))")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--posts-per-run", type=int, default=5)
    parser.add_argument("--every", type=int, default=50, help="runs between two readings of the store")
    parser.add_argument("--changes-max-entries", type=int, default=2000)
    parser.add_argument("--quiet-runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="finews-year-bench-"))
    data, database, keep_days = work / "data", "finews", 90.0
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FINEWS_", "MONGO_URI", "SPLASH_URL"))}
    env.update(FINEWS_DATA_DIR=str(data), FINEWS_OUTPUT_DIR=str(work / "out"), FINEWS_MONGO_DATABASE=database,
               FINEWS_CHANGES_MAX_ENTRIES=str(args.changes_max_entries), FINEWS_RUNS_KEEP_DAYS=str(keep_days),
               FINEWS_BASE_URL="http://127.0.0.1:9/", FINEWS_SHARE_BASE_URL="http://127.0.0.1:9/")
    print(f"1. run records (FINEWS_RUNS_KEEP_DAYS={keep_days:g})")
    records_part(env, data, database, keep_days, args.changes_max_entries)

    print(f"2. {args.runs} short runs, {args.posts_per_run} new post sources each "
          f"(FINEWS_CHANGES_MAX_ENTRIES={args.changes_max_entries})")
    sources = generate_posts(work / "all", args.runs * args.posts_per_run, seed=5)
    readings = [(0, *store_counts(data, database, args.changes_max_entries))]
    run_seconds = []
    for run in range(1, args.runs + 1):
        batch = work / "batches" / str(run) / "_posts"
        batch.mkdir(parents=True)
        for path in sources[(run - 1) * args.posts_per_run:run * args.posts_per_run]:
            path.rename(batch / path.name)
        run_seconds.append(finews(env, "crawl", "posts", "-a", f"path={batch.parent}"))
        if run == 1:
            client_server = EmbeddedServer(data / "mongo", changes_max_entries=args.changes_max_entries)
            client = MongoClient(client_server.start())
            kept = client[database].crawl_runs.count_documents({})
            oldest = client[database].crawl_runs.find_one({}, sort=[("started_at", 1)])["started_at"]
            client.close()
            client_server.stop()
            print(f"  after the first run: {kept:,} run records kept, the oldest from "
                  f"{(datetime.now(UTC) - oldest.replace(tzinfo=UTC)).days} days ago "
                  f"(target: {keep_days:g} days, {int(keep_days * 288):,} records at one run every 5 minutes)")
        if run % args.every == 0 or run == args.runs:
            readings.append((run, *store_counts(data, database, args.changes_max_entries)))
            _, entries, archive, folder = readings[-1]
            warc_bytes, warc_count = warc_figures(data)
            print(f"  after {run:4} runs: oplog {entries:6,} entries; archive {archive / 1e6:7.2f} MB; "
                  f"data folder {folder / 1e6:7.2f} MB (mongo/); WARC {warc_bytes / 1e6:6.2f} MB in {warc_count} "
                  f"file(s); a run took {statistics.median(run_seconds):.2f} s (median)")
    (first, _, archive_0, folder_0), (last, entries, archive_n, folder_n) = readings[1], readings[-1]
    if last > first:
        per_run_folder = (folder_n - folder_0) / (last - first)
        per_run_archive = (archive_n - archive_0) / (last - first)
        print(f"  runs {first}-{last}: data folder +{per_run_folder / 1e3:.1f} kB a run, archive "
              f"+{per_run_archive / 1e3:.1f} kB a run (ratio {per_run_folder / max(per_run_archive, 1):.2f}); "
              f"oplog {entries:,} entries (bound {args.changes_max_entries:,})")

    quiet_part(env, work, args.quiet_runs)


if __name__ == "__main__":
    main()
