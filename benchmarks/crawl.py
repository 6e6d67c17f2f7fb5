"""Crawl speed of the `finews` spider against plain link following, in one run.

Generates a replica of N posts (default 10,000), serves it from a separate
process, then crawls it with the same Scrapy settings:
1. baseline: `scrapy bench`'s spider (Scrapy's LinkExtractor on every page, a request
   per same-site link, nothing extracted), plus the back links to category pages, the
   only way to them;
2. minimal: the same without LinkExtractor: only the hrefs of each page, read with
   lxml (a stricter floor than `scrapy bench`, printed beside it);
3. finews: the real spider with its parsing and pipelines (normalize, validate,
   dedupe), raw captures off (FINEWS_WARC=0); where the items are written is the store
   benchmark's business;
4. finews+warc: the same with raw captures on (the default), into a scratch folder.
Prints pages/s and items/s of each, the ratio finews/baseline (target ≥ 0.8:
our parsing and pipelines cost little), the ratio to the minimal floor, capture on
against off (target ≥ 0.9) with the WARC bytes per post page, and each crawl's peak
RSS and CPU seconds (this VM's wall-clock times swing; CPU less so).
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
from scrapy.linkextractors import LinkExtractor
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
    """Follow every same-site link and extract nothing, as `scrapy bench`'s spider does."""

    name = "follow_all"

    def __init__(self, base_url: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url
        self.allowed_domains = [urlsplit(base_url).hostname]
        self.link_extractor = LinkExtractor()  # as scrapy bench: off-site links are left to OffsiteMiddleware

    async def start(self):
        for url in (self.base_url, self.base_url + "feed.xml"):
            yield scrapy.Request(url)

    def parse(self, response):
        if b"<html" not in response.body[:2000].lower():
            return
        for url in self.links(response):
            yield scrapy.Request(url)
        # The site's category pages are linked only by posts' back links to the live host.
        for slug in back_link_categories(response.body):
            yield scrapy.Request(category_url(self.base_url, slug))

    def links(self, response):
        return [link.url for link in self.link_extractor.extract_links(response)]


class FollowHrefs(FollowAll):
    """The stricter floor: the page's hrefs, read with lxml, instead of LinkExtractor."""

    name = "follow_hrefs"

    def links(self, response):
        return [url for url in page_links(response.body, response.url) if url.startswith(self.base_url)]


def crawl_child(kind: str, base_url: str, out: str) -> None:
    """Run one crawl in this (child) process and write its figures to ``out``."""
    settings = get_project_settings()
    settings.setdict(SETTINGS, priority="cmdline")
    if kind in ("baseline", "minimal"):
        settings.set("ITEM_PIPELINES", {}, priority="cmdline")
        settings.set("FINEWS_WARC", False, priority="cmdline")  # Scrapy's floors: no finews component
        spider_cls, kwargs = FollowAll if kind == "baseline" else FollowHrefs, {"base_url": base_url}
    else:
        settings.set("FINEWS_OUTPUT_DIR", str(Path(out).parent), priority="cmdline")
        settings.set("FINEWS_DATA_DIR", str(Path(out).parent / f"data-{kind}"), priority="cmdline")
        settings.set("FINEWS_WARC", kind == "finews+warc", priority="cmdline")
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
        "cpu_seconds": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
        "warc_bytes": stats.get("finews/warc/bytes", 0),
        "writer_cpu_seconds": sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2]),  # the capture writer process
    }
    Path(out).write_text(json.dumps(figures))


def run(kind: str, base_url: str, workdir: Path) -> dict:
    """One crawl in a child process; ``workdir`` holds its figures and, new for each round, its data folder (a
    second round into the same one would capture revisits, not what a first crawl costs)."""
    workdir.mkdir(parents=True, exist_ok=True)
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
        kinds = ("baseline", "minimal", "finews", "finews+warc")
        rounds = [[run(kind, base_url, workdir / f"round-{n}") for kind in kinds] for n in range(args.rounds)]
        best = {kind: max((r[i] for r in rounds), key=lambda f: f["pages"] / f["seconds"])
                for i, kind in enumerate(kinds)}
    finally:
        server.terminate()
        server.wait()
    names = {"baseline": "baseline (scrapy bench)", "minimal": "minimal (hrefs only)",
             "finews": "finews (parse + pipelines)", "finews+warc": "finews, raw captures on"}
    for kind, f in best.items():
        print(f"{names[kind]:28s} pages={f['pages']:6d} items={f['items']:6d} time={f['seconds']:7.2f}s "
              f"pages/s={f['pages'] / f['seconds']:8.1f} items/s={f['items'] / f['seconds']:8.1f} "
              f"CPU={f['cpu_seconds']:6.1f}s (+{f['writer_cpu_seconds']:.1f}s writer) "
              f"peak RSS={f['peak_rss_mb']:.0f} MB")
    rate = {kind: f["pages"] / f["seconds"] for kind, f in best.items()}
    print(f"ratio finews/baseline pages/s = {rate['finews'] / rate['baseline']:.2f} (target >= 0.8)")
    print(f"ratio finews/minimal pages/s = {rate['finews'] / rate['minimal']:.2f} (the stricter floor; no target)")
    captured = best["finews+warc"]
    print(f"ratio capture on/off pages/s = {rate['finews+warc'] / rate['finews']:.2f} (target >= 0.9); "
          f"WARC {captured['warc_bytes'] / max(captured['pages'], 1):,.0f} bytes per page, "
          f"{captured['warc_bytes'] / max(captured['items'], 1) * 1000 / 1e6:.1f} MB per 1,000 posts")


if __name__ == "__main__":
    main()
