"""Reparse against the crawl it re-derives, in one run: the archive rebuilt from raw captures, no network.

Generates a replica of N posts (default 5,000), crawls it into a scratch embedded store with raw captures on
(post pages only: no share pages), then runs `finews reparse` (every article read back from its WARC record,
parsed, normalized, validated and merged; nothing changes) and `finews reparse --dry-run` (no pipelines,
no writes). Prints each one's articles/s, the ratio of reparse to the crawl's pages/s, and the WARC bytes
per post page. No target: reparse runs after an upgrade, not every few minutes; it must not be slower than
fetching the site again.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from finews.replica import Replica, generate_posts

ROOT = Path(__file__).resolve().parent.parent


def finews(env: dict, *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "finews.cli", *args], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=False)
    if run.returncode != 0:
        sys.exit(f"finews {' '.join(args)}: exit {run.returncode}\n{run.stdout[-2000:]}{run.stderr[-2000:]}")
    return time.perf_counter() - started, run.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=5_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="finews-reparse-bench-"))
    generate_posts(work / "site", args.posts)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FINEWS_", "MONGO_URI", "SPLASH_URL"))}
    env.update(FINEWS_DATA_DIR=str(work / "data"), FINEWS_OUTPUT_DIR=str(work / "out"))
    with Replica(work / "site") as site:
        env.update(FINEWS_BASE_URL=site.url, FINEWS_SHARE_BASE_URL=site.url)
        crawl_seconds, said = finews(env, "crawl", "-a", "share=0", "-s", "AUTOTHROTTLE_ENABLED=0",
                                     "-s", "CONCURRENT_REQUESTS=16", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16")
    pages = int(re.search(r"response_received_count=(\d+)", said).group(1))
    warc = sum(p.stat().st_size for p in (work / "data" / "warc").glob("*.warc.gz"))
    reparse_seconds, said = finews(env, "reparse")
    summary = said.strip().splitlines()[-1]
    dry_seconds, _ = finews(env, "reparse", "--dry-run")
    print(f"crawl:            {pages} pages in {crawl_seconds:6.1f} s = {pages / crawl_seconds:7.1f} pages/s "
          f"(whole command, server start included)")
    print(f"reparse:          {args.posts} articles in {reparse_seconds:6.1f} s = "
          f"{args.posts / reparse_seconds:7.1f} articles/s ({summary})")
    print(f"reparse --dry-run: {args.posts} articles in {dry_seconds:6.1f} s = "
          f"{args.posts / dry_seconds:7.1f} articles/s")
    print(f"ratio reparse/crawl = {args.posts / reparse_seconds / (pages / crawl_seconds):.2f}; "
          f"WARC {warc / pages:,.0f} bytes per page ({warc / 1e6:.1f} MB for {args.posts} posts)")


if __name__ == "__main__":
    main()
