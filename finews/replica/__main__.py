"""``python -m finews.replica --posts DIR`` serves a replica until interrupted (the offline demo)."""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time

from finews.replica.generate import generate_posts
from finews.replica.server import Replica


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m finews.replica", description=__doc__)
    parser.add_argument("--posts", help="folder of post sources (_posts/, old_post/, category/)")
    parser.add_argument("--generate", type=int, default=0, metavar="N", help="serve N generated posts instead")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--layout", choices=["new", "old"], default="new")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of 503 answers")
    parser.add_argument("--prerender", action="store_true", help="render every page before serving")
    args = parser.parse_args(argv)
    if not args.posts and not args.generate:
        parser.error("give --posts DIR or --generate N")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    posts = args.posts
    if args.generate:
        posts = tempfile.mkdtemp(prefix="finews-replica-")
        generate_posts(posts, args.generate)
    replica = Replica(posts, port=args.port, layout=args.layout, latency=args.latency, error_rate=args.error_rate)
    if args.prerender:
        categories = (f"/category/{c}.html" for c in replica.site.category_pages)
        for path in ["/", "/feed.xml", *replica.site.by_path, *categories]:
            replica.site.page(path)
    replica.start()
    print(replica.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        replica.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
