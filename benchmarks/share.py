"""Share pages through the JSON endpoint against through Splash, in one run against the replica.

Generates a replica of N posts, then runs `scrapy crawl share` over all their info codes twice:
1. API path: the JSON endpoint answers;
2. Splash path: the endpoint refuses direct calls (the replica's api_faults), so every article
   comes from Splash rendering the share page (a real Splash server started here).
Prints articles/s of each, their ratio (expect the API path well over 10x faster), and Splash's
RSS after the run. Storage is off in both runs, and no feed is written: this measures the fetching
(and the pipelines' normalizing and checking) only.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from finews.codes import canonical_info_code
from finews.replica import Replica, generate_posts
from finews.splash.process import SplashProcess

ROOT = Path(__file__).resolve().parent.parent


def crawl_shares(base_url: str, codes_file: Path, out: Path, concurrency: int, *settings: str) -> dict[str, float]:
    out.mkdir(parents=True)
    log = out / "crawl.log"
    subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "share", "-a", f"codes_file={codes_file}", "-s", "FINEWS_STORE=0",
         "-s", f"FINEWS_SHARE_BASE_URL={base_url}", "-s", f"FINEWS_OUTPUT_DIR={out}", "-s", f"LOG_FILE={log}",
         "-s", "AUTOTHROTTLE_ENABLED=0", "-s", f"CONCURRENT_REQUESTS={concurrency}",
         "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={concurrency}", *settings],
        cwd=ROOT, check=True,
    )
    text = log.read_text(encoding="utf-8")

    def stat(name: str) -> float:
        match = re.search(rf"'{re.escape(name)}': ([\d.]+)", text)
        return float(match.group(1)) if match else 0.0

    return {"seconds": stat("elapsed_time_seconds"), "api": stat("finews/share/ok/api"),
            "render": stat("finews/share/ok/render"), "items": stat("item_scraped_count")}


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (Splash starts its own Xvfb)."""
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if status.parent.name == str(pid) or fields.get("PPid", "").strip() == str(pid):
            total += int(fields.get("VmRSS", "0 kB").split()[0])
    return total / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=2000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="finews-share-bench-"))
    paths = generate_posts(workdir / "posts", args.posts)
    codes = [canonical_info_code(p.stem.split("-", 3)[3]) for p in paths]
    codes_file = workdir / "codes.txt"
    codes_file.write_text("\n".join(codes), encoding="utf-8")
    few = workdir / "codes-100.txt"
    few.write_text("\n".join(codes[:100]), encoding="utf-8")
    print(f"share pages of a replica of {args.posts} generated posts")
    with Replica(workdir / "posts") as replica, SplashProcess(log_path=workdir / "splash.log") as splash:
        for concurrency, listed, count in ((16, codes_file, len(codes)), (1, few, 100)):
            replica.api_faults = {}
            api = crawl_shares(replica.url, listed, workdir / f"api-{concurrency}", concurrency)
            replica.api_faults = {"*": "status_500"}
            rendered = crawl_shares(replica.url, listed, workdir / f"splash-{concurrency}", concurrency,
                                    "-s", f"SPLASH_URL={splash.url}", "-s", "FINEWS_SPLASH_RETRY_BACKOFF=0")
            api_rate = api["api"] / api["seconds"]
            render_rate = rendered["render"] / rendered["seconds"]
            print(f"{count} pages, {concurrency} request(s) at a time:")
            print(f"  API path     {api['api']:5.0f} articles in {api['seconds']:6.2f} s = {api_rate:7.1f} articles/s")
            print(f"  Splash path  {rendered['render']:5.0f} articles in {rendered['seconds']:6.2f} s = "
                  f"{render_rate:7.1f} articles/s")
            print(f"  API / Splash = {api_rate / render_rate:.1f}x (expect well over 10x)")
        ping = splash.ping() or {}
        splash_rss = rss_mb(splash.process.pid)
    print(f"Splash after the runs: RSS {splash_rss:.0f} MB (process and children), "
          f"peak of its main process {ping.get('maxrss', 0) / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
