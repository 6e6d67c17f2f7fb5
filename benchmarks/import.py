"""Import speed and memory of the `posts` spider, in one run.

Generates post sources in the fixtures' formats (10,000 and 50,000 files), then:
1. reading, parsing and normalization with storage off: files/s (target >= 1,000 on these 2-core
   machines) and peak RSS for 10,000 and for 50,000 files (target: no growth with the count);
   beside it, what a file:// request per file costs Scrapy alone (a spider that reads the same
   files through the downloader and does nothing): why the posts spider reads local files itself;
2. end to end into a SecantusDB server: files/s, beside that server's own bulk-write ceiling for
   the same documents (a raw unordered bulk_write of upserts, indexes as the archive's):
   target >= 0.8 x the ceiling;
3. the article contract's check (finews/schemas/item.schema.json): microseconds an article for the
   validation pipeline's compiled check (fastjsonschema) and for jsonschema on the same articles, beside
   the milliseconds a file costs the import: whether the compiled check still pays.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pymongo import MongoClient, UpdateOne

from finews.normalize import normalize_article
from finews.parsing.source import article_from_source, read_source
from finews.replica import generate_posts
from finews.storage.archive import ARTICLE_INDEXES
from finews.storage.documents import to_document
from finews.storage.embedded import EmbeddedServer

ROOT = Path(__file__).resolve().parent.parent
NOOP = '''
import scrapy
from pathlib import Path
class ReadOnly(scrapy.Spider):
    name = "read_only"
    custom_settings = {"AUTOTHROTTLE_ENABLED": False, "ROBOTSTXT_OBEY": False, "CONCURRENT_REQUESTS": 32,
                       "CONCURRENT_REQUESTS_PER_DOMAIN": 32, "ITEM_PIPELINES": {}}
    async def start(self):
        for f in sorted(Path(self.path).rglob("*.md")):
            yield scrapy.Request(f.resolve().as_uri(), dont_filter=True)
    def parse(self, response):
        return None
'''


def run(command: list[str], log: Path) -> tuple[dict[str, float], float]:
    """Run a crawl; its stats from the log, and its peak RSS in MB (wait4 of that very child)."""
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"{command[:5]} failed ({status}); see {log}")
    text = log.read_text(encoding="utf-8")
    stats = {name: float(value) for name, value in re.findall(r"'([\w/]+)': ([\d.]+)", text)}
    return stats, usage.ru_maxrss / 1024


def scrapy_command(spider_args: list[str], log: Path, *settings: str) -> list[str]:
    return [sys.executable, "-m", "scrapy", *spider_args, "-s", f"LOG_FILE={log}", "-s", "LOG_LEVEL=INFO",
            "-s", "TELNETCONSOLE_ENABLED=0", *settings]


def import_files(folder: Path, work: Path, *settings: str) -> tuple[float, float]:
    log = work / f"import-{folder.name}-{len(settings)}.log"
    stats, rss = run(scrapy_command(["crawl", "posts", "-a", f"path={folder}"], log,
                                    "-s", f"FINEWS_OUTPUT_DIR={work}", *settings), log)
    return stats["finews/posts/files"] / stats["elapsed_time_seconds"], rss


def ceiling(uri: str, folder: Path) -> float:
    docs = []
    for path in sorted(folder.rglob("*.md")):
        article = normalize_article(article_from_source(read_source(path.read_bytes(), path.name)))
        docs.append(to_document(dataclasses.asdict(article)))
    collection = MongoClient(uri)["bench_ceiling"].articles
    collection.create_indexes(ARTICLE_INDEXES)
    started = time.perf_counter()
    for start in range(0, len(docs), 200):
        collection.bulk_write([UpdateOne({"_id": d["_id"]}, {"$set": d}, upsert=True)
                               for d in docs[start:start + 200]], ordered=False)
    return len(docs) / (time.perf_counter() - started)


def contract_cost(folder: Path, count: int = 2000) -> tuple[float, float]:
    """Microseconds an article: the validation pipeline's compiled contract, and jsonschema on the same schema."""
    from jsonschema import Draft202012Validator  # noqa: PLC0415 - a test dependency, measured here only

    from finews.pipelines.validate import ValidatePipeline, item_schema  # noqa: PLC0415

    articles = [normalize_article(article_from_source(read_source(p.read_bytes(), p.name), "https://h"))
                for p in sorted((folder / "_posts").glob("*.md"))[:count]]
    pipeline = ValidatePipeline(max_body_chars=1_000_000)
    reference = Draft202012Validator(item_schema(1_000_000), format_checker=Draft202012Validator.FORMAT_CHECKER)
    started = time.perf_counter()
    for article in articles:
        pipeline.process_item(article)
    compiled = time.perf_counter() - started
    started = time.perf_counter()
    for article in articles:
        reference.is_valid(vars(article))
    return compiled / len(articles) * 1e6, (time.perf_counter() - started) / len(articles) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=50_000)
    parser.add_argument("--e2e", type=int, default=10_000, help="files for the end-to-end run")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="finews-import-bench-"))
    small, large, e2e = work / f"posts-{args.small}", work / f"posts-{args.large}", work / f"e2e-{args.e2e}"
    for folder, count in ((small, args.small), (large, args.large), (e2e, args.e2e)):
        generate_posts(folder, count, seed=count)
    noop = work / "read_only.py"
    noop.write_text(NOOP, encoding="utf-8")
    log = work / "read-only.log"
    floor_stats, _ = run(scrapy_command(["runspider", str(noop), "-a", f"path={small}"], log, "-s", "FINEWS_WARC=0"),
                         log)  # Scrapy alone: no finews capture either
    floor = args.small / floor_stats["elapsed_time_seconds"]
    small_rate, small_rss = import_files(small, work, "-s", "FINEWS_STORE=0", "-s", f"FINEWS_DATA_DIR={work / 's'}")
    large_rate, large_rss = import_files(large, work, "-s", "FINEWS_STORE=0", "-s", f"FINEWS_DATA_DIR={work / 'l'}")
    print(f"storage off, {args.small} files: {small_rate:7.1f} files/s, peak RSS {small_rss:5.0f} MB")
    print(f"storage off, {args.large} files: {large_rate:7.1f} files/s, peak RSS {large_rss:5.0f} MB "
          f"(x{large_rss / small_rss:.2f} for x{args.large / args.small:.0f} files)")
    print(f"for comparison, Scrapy alone reading the {args.small} files as file:// requests and doing nothing: "
          f"{floor:7.1f} files/s (the posts spider, which reads local files itself, runs at {small_rate / floor:.2f}x "
          "that; target 1,000 files/s)")
    server = EmbeddedServer(work / "mongo")
    uri = server.start()
    try:
        rate, _ = import_files(e2e, work, "-s", f"MONGO_URI={uri}", "-s", "FINEWS_MONGO_DATABASE=bench_import",
                               "-s", f"FINEWS_DATA_DIR={work / 'data'}")
        stored = MongoClient(uri)["bench_import"].articles.count_documents({})
        top = ceiling(uri, e2e)
    finally:
        server.stop()
    print(f"end to end into SecantusDB, {args.e2e} files: {rate:7.1f} files/s ({stored} articles stored); "
          f"the server's bulk_write ceiling for the same documents: {top:7.1f} docs/s; ratio {rate / top:.2f} "
          "(target >= 0.8)")
    compiled_us, jsonschema_us = contract_cost(small)
    print(f"article contract: compiled check {compiled_us:.1f} us an article, jsonschema {jsonschema_us:.1f} us "
          f"(an imported file costs {1e6 / small_rate:.0f} us; jsonschema would add "
          f"{jsonschema_us / (1e6 / small_rate):.0%})")
    print(json.dumps({"files_per_s_storage_off": round(small_rate, 1), "scrapy_floor_files_per_s": round(floor, 1),
                      "rss_mb": {args.small: round(small_rss), args.large: round(large_rss)},
                      "end_to_end_files_per_s": round(rate, 1), "server_ceiling_docs_per_s": round(top, 1)}))


if __name__ == "__main__":
    main()
