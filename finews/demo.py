"""``python -m finews.demo``: the offline demo — a local replica of the site, crawled by `finews`.

Serves the fixture corpus (or ``--generate N`` synthetic posts) on 127.0.0.1 and
runs ``scrapy crawl finews`` against it, as an operator would against the live site.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from finews.replica import Replica, generate_posts

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "posts"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m finews.demo", description=__doc__)
    parser.add_argument("--posts", type=Path, help="folder of post sources (default: the fixture corpus)")
    parser.add_argument("--generate", type=int, default=0, metavar="N", help="crawl N generated posts instead")
    parser.add_argument("--output", type=Path, default=Path("output/demo"), help="where items and rejects go")
    args = parser.parse_args(argv)
    posts = args.posts or FIXTURES
    if args.generate:
        posts = Path(tempfile.mkdtemp(prefix="finews-demo-"))
        generate_posts(posts, args.generate)
    if not posts.is_dir():
        parser.error(f"no post sources at {posts}: give --posts DIR or --generate N")
    args.output.mkdir(parents=True, exist_ok=True)
    with Replica(posts) as replica:
        print(f"replica of {len(replica.site.posts)} posts at {replica.url}", flush=True)
        command = [
            sys.executable, "-m", "scrapy", "crawl", "finews", "-a", f"base_url={replica.url}",
            "-O", str(args.output / "articles.jsonl"), "-s", f"FINEWS_OUTPUT_DIR={args.output}",
            "-s", f"FINEWS_DATA_DIR={args.output / 'data'}",
            # Share links point at the live share hosts: the replica answers for them, nothing leaves 127.0.0.1.
            "-s", f"FINEWS_SHARE_BASE_URL={replica.url}",
            "-s", "AUTOTHROTTLE_ENABLED=0",
        ]
        code = subprocess.run(command, check=False).returncode
    items = args.output / "articles.jsonl"
    count = sum(1 for _ in items.open(encoding="utf-8")) if items.exists() else 0
    print(f"{count} articles in {items}; rejects, if any, in {args.output / 'rejects.jsonl'}")
    return code


if __name__ == "__main__":
    sys.exit(main())
