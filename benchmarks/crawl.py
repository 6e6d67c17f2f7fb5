"""Crawl speed of the `finews` spider against plain link following, in one run.

Generates a replica of N posts (default 10,000), serves it from a separate
process, then crawls it twice with the same Scrapy settings:
1. baseline: a `scrapy bench`-style spider that follows every same-site link
   (and the back links to category pages, the only way to them) and extracts nothing;
2. finews: the real spider with its parsing and pipelines (normalize, validate,
   dedupe); where the items are written is the store benchmark's business.
Prints pages/s and items/s of each, the ratio finews/baseline (target ≥ 0.8:
our parsing and pipelines cost little) and each crawl's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings

from finews.parsing.listing import back_link_categories, page_links
from finews.parsing.urls import category_url
from finews.spiders.finews import FinewsSpider

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = {
    # Parsing and the pipelines up to storage: the store has its own benchmark (store.py); no share pages.
    "FINEWS_STORE": False,
    "FINEWS_SHARE": False,
    "AUTOTHROTTLE_ENABLED": False,
    "LOG_LEVEL": "WARNING",
    "TELNETCONSOLE_ENABLED": False,
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
}


class FollowAll(scrapy.Spider):
    """Follow every same-site link and extract nothing: the cost of crawling alone."""

    name = "follow_all"

    def __init__(self, base_url: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url
        self.allowed_domains = [urlsplit(base_url).hostname]

    async def start(self):
        for url in (self.base_url, self.base_url + "feed.xml"):
            yield scrapy.Request(url)

    def parse(self, response):
        if b"<html" not in response.body[:2000].lower():
            return
        for url in page_links(response.body, response.url):
            if url.startswith(self.base_url):
                yield scrapy.Request(url)
        # The site's category pages are linked only by posts' back links to the live host.
        for slug in back_link_categories(response.body):
            yield scrapy.Request(category_url(self.base_url, slug))


def crawl_child(kind: str, base_url: str, out: str) -> None:
    """Run one crawl in this (child) process and write its figures to ``out``."""
    settings = get_project_settings()
    settings.setdict(SETTINGS, priority="cmdline")
    if kind == "baseline":
        settings.set("ITEM_PIPELINES", {}, priority="cmdline")
        spider_cls, kwargs = FollowAll, {"base_url": base_url}
    else:
        settings.set("FINEWS_OUTPUT_DIR", str(Path(out).parent), priority="cmdline")
        spider_cls, kwargs = FinewsSpider, {"base_url": base_url}
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(spider_cls)
    process.crawl(crawler, **kwargs)
    process.start()
    stats = crawler.stats.get_stats()
    figures = {
        "seconds": stats["elapsed_time_seconds"],
        "pages": stats.get("response_received_count", 0),
        "items": stats.get("item_scraped_count", 0),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    Path(out).write_text(json.dumps(figures))


def run(kind: str, base_url: str, workdir: Path) -> dict:
    out = workdir / f"{kind}.json"
    subprocess.run([sys.executable, __file__, "--child", kind, base_url, str(out)], check=True, cwd=ROOT)
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2, help="crawls of each kind, alternated; the fastest counts")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        crawl_child(*args.child)
        return
    workdir = Path(tempfile.mkdtemp(prefix="finews-bench-"))
    server = subprocess.Popen(
        [sys.executable, "-m", "finews.replica", "--generate", str(args.posts), "--prerender"],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )
    try:
        base_url = server.stdout.readline().strip()
        print(f"replica of {args.posts} generated posts at {base_url}")
        # Alternate the two crawls and keep each one's fastest round: the machine is shared.
        rounds = [(run("baseline", base_url, workdir), run("finews", base_url, workdir)) for _ in range(args.rounds)]
        baseline = max((r[0] for r in rounds), key=lambda f: f["pages"] / f["seconds"])
        finews = max((r[1] for r in rounds), key=lambda f: f["pages"] / f["seconds"])
    finally:
        server.terminate()
        server.wait()
    for name, f in (("baseline (follow links)", baseline), ("finews (parse + pipelines)", finews)):
        print(f"{name:28s} pages={f['pages']:6d} items={f['items']:6d} time={f['seconds']:7.2f}s "
              f"pages/s={f['pages'] / f['seconds']:8.1f} items/s={f['items'] / f['seconds']:8.1f} "
              f"peak RSS={f['peak_rss_mb']:.0f} MB")
    ratio = (finews["pages"] / finews["seconds"]) / (baseline["pages"] / baseline["seconds"])
    print(f"ratio finews/baseline pages/s = {ratio:.2f} (target >= 0.8)")


if __name__ == "__main__":
    main()
