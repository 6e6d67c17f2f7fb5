"""Share pages through the JSON endpoint against through Splash, in one run against the replica.

Generates a replica of N posts, then runs `scrapy crawl share` over all their info codes, each path:
1. API path: the JSON endpoint answers;
2. Splash path: the endpoint refuses direct calls (the replica's api_faults), so every article
   comes from Splash rendering the share page (a real Splash server started here).
Each path runs --rounds times (the fastest counts: this VM's speed swings between runs), and so
does Scrapy alone: a spider that sends the API path's requests and does nothing with the answers,
the floor under any Scrapy spider here. Prints articles/s of every run, the ratio of the fastest
runs (expect the API path well over 10x faster), the API path against Scrapy alone, Splash's RSS
after the runs, and, for runs of at least 1,000 pages, the CPU milliseconds an article cost the
crawl (past its start-up), Splash and the replica.
Storage is off in both runs, and no feed is written: this measures the fetching (and the
pipelines' normalizing and checking) only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from finews.codes import canonical_info_code
from finews.parsing.source import read_source
from finews.replica import Replica, generate_posts
from finews.splash.process import SplashProcess

ROOT = Path(__file__).resolve().parent.parent


# Scrapy alone: the same JSON requests, under the same settings, and nothing done with the answers.
SCRAPY_ALONE = '''
import json
import scrapy
from pathlib import Path
class FetchOnly(scrapy.Spider):
    name = "fetch_only"
    custom_settings = {"ITEM_PIPELINES": {}}
    async def start(self):
        for line in Path(self.codes_file).read_text(encoding="utf-8").splitlines():
            code = json.loads(line)["info_code"]
            yield scrapy.Request(f"{self.base_url}NewsData/GetNewsText.do?id={code}", dont_filter=True)
    def parse(self, response):
        return None
'''


def run_crawl(spider_args: list[str], out: Path, concurrency: int, *settings: str) -> tuple[dict[str, float], float]:
    """A Scrapy run in a child process, storage off: its stats (from its log) and the CPU seconds it used."""
    out.mkdir(parents=True)
    log = out / "crawl.log"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-m", "scrapy", *spider_args, "-s", "FINEWS_STORE=0", "-s", f"FINEWS_OUTPUT_DIR={out}",
         "-s", f"FINEWS_DATA_DIR={out / 'data'}",
         "-s", f"LOG_FILE={log}", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", f"CONCURRENT_REQUESTS={concurrency}",
         "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={concurrency}", *settings],
        cwd=ROOT, check=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    text = log.read_text(encoding="utf-8")
    stats = {name: float(value) for name, value in re.findall(r"'([\w/]+)': ([\d.]+)", text)}
    return stats, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def scrapy_alone(spider: Path, replica: Replica, codes_file: Path, out: Path, concurrency: int) -> float:
    """Requests/s of a spider that fetches the API path's JSON and does nothing with it: the floor."""
    replica.api_faults = {}
    stats, _ = run_crawl(["runspider", str(spider), "-a", f"codes_file={codes_file}", "-a", f"base_url={replica.url}"],
                         out, concurrency)
    return stats.get("downloader/response_status_count/200", 0) / stats["elapsed_time_seconds"]


def crawl_shares(base_url: str, codes_file: Path, out: Path, concurrency: int, *settings: str) -> dict[str, float]:
    """One `scrapy crawl share` run: its figures, and the CPU seconds the crawl process used."""
    stats, cpu = run_crawl(["crawl", "share", "-a", f"codes_file={codes_file}"], out, concurrency,
                           "-s", f"FINEWS_SHARE_BASE_URL={base_url}", *settings)
    return {"seconds": stats["elapsed_time_seconds"], "api": stats.get("finews/share/ok/api", 0.0),
            "render": stats.get("finews/share/ok/render", 0.0), "crawl_cpu": cpu}


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (Splash starts its own Xvfb)."""
    return sum(int(fields.get("VmRSS", "0 kB").split()[0]) for fields in _family(pid, "status")) / 1024


def cpu_seconds(pid: int) -> float:
    """CPU seconds a process and its children have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    return sum((int(stat[11]) + int(stat[12])) / ticks for stat in _family(pid, "stat"))


def _family(pid: int, kind: str) -> list:
    """/proc/<pid>/status (a dict) or /proc/<pid>/stat (fields after the name) of a process and its children."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            text = (entry / kind).read_text()
        except OSError:
            continue
        if kind == "status":
            fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
            parent = fields.get("PPid", "").strip()
        else:
            fields = text.rsplit(")", 1)[1].split()
            parent = fields[1]
        if entry.name == str(pid) or parent == str(pid):
            found.append(fields)
    return found


def measure(replica: Replica, splash: SplashProcess, path: str, codes_file: Path, out: Path,
            concurrency: int, startup_cpu: float = 0.0) -> dict[str, float]:
    """One crawl through one path: articles/s, and CPU milliseconds an article (crawl past its start-up
    CPU seconds, Splash, replica)."""
    if path == "api":
        replica.api_faults = {}
        settings: tuple[str, ...] = ()
    else:
        replica.api_faults = {"*": "status_500"}
        settings = ("-s", f"SPLASH_URL={splash.url}", "-s", "FINEWS_SPLASH_RETRY_BACKOFF=0")
    splash_cpu, replica_cpu = cpu_seconds(splash.process.pid), time.process_time()
    result = crawl_shares(replica.url, codes_file, out, concurrency, *settings)
    articles = result["api" if path == "api" else "render"]
    per = 1000 / max(articles, 1)
    return {"articles": articles, "seconds": result["seconds"], "rate": articles / result["seconds"],
            "crawl_cpu": result["crawl_cpu"], "crawl_ms": max(result["crawl_cpu"] - startup_cpu, 0) * per,
            "splash_ms": (cpu_seconds(splash.process.pid) - splash_cpu) * per,
            # The replica serves from threads of this process, which does nothing else meanwhile.
            "replica_ms": (time.process_time() - replica_cpu) * per}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2, help="runs of each path; the fastest counts")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="finews-share-bench-"))
    paths = generate_posts(workdir / "posts", args.posts)
    # One article a line, as `finews export` writes them: the endpoint's answer has the text only, and
    # the post's title and date (which a crawl takes from the post page or the archive) come from here.
    sources = [read_source(p.read_bytes(), p.name) for p in paths]
    codes = [json.dumps({"info_code": canonical_info_code(p.stem.split("-", 3)[3]), "title": s.title,
                         "published_at": s.date}, ensure_ascii=False) for p, s in zip(paths, sources, strict=True)]
    codes_file = workdir / "codes.txt"
    codes_file.write_text("\n".join(codes), encoding="utf-8")
    few = workdir / "codes-100.txt"
    few.write_text("\n".join(codes[:100]), encoding="utf-8")
    print(f"share pages of a replica of {args.posts} generated posts, {args.rounds} round(s) of each path "
          "(the fastest counts; this VM's speed swings between runs)")
    fetch_only = workdir / "fetch_only.py"
    fetch_only.write_text(SCRAPY_ALONE, encoding="utf-8")
    one = workdir / "codes-1.txt"
    one.write_text(codes[0], encoding="utf-8")
    with Replica(workdir / "posts") as replica, SplashProcess(log_path=workdir / "splash.log") as splash:
        # What a crawl costs before and after its articles (imports, settings, closing): left out of CPU an article.
        startup = min(measure(replica, splash, "api", one, workdir / f"start-up-{n}", 1)["crawl_cpu"] for n in (1, 2))
        print(f"start-up and close of a crawl: {startup:.2f} CPU s (left out of the CPU an article below)")
        for concurrency, listed, count in ((16, codes_file, len(codes)), (1, few, 100)):
            # 100 articles cost the crawl less CPU than its start-up swings between runs: no CPU an article for them.
            with_cpu = count >= 1000
            print(f"{count} pages, {concurrency} request(s) at a time:")
            best: dict[str, dict[str, float]] = {}
            for round_ in range(1, args.rounds + 1):
                for path, label in (("api", "API path   "), ("splash", "Splash path")):
                    run = measure(replica, splash, path, listed, workdir / f"{path}-{concurrency}-{round_}",
                                  concurrency, startup)
                    cpu = (f"CPU ms an article: crawl {run['crawl_ms']:5.2f}, Splash {run['splash_ms']:5.2f}, "
                           f"replica {run['replica_ms']:5.2f}" if with_cpu else "")
                    print(f"  round {round_} {label} {run['articles']:5.0f} articles in {run['seconds']:6.2f} s = "
                          f"{run['rate']:7.1f} articles/s; {cpu}")
                    if run["rate"] > best.get(path, {}).get("rate", 0):
                        best[path] = run
                alone = scrapy_alone(fetch_only, replica, listed, workdir / f"alone-{concurrency}-{round_}",
                                     concurrency)
                print(f"  round {round_} Scrapy alone (the same JSON requests, nothing done with them): "
                      f"{alone:7.1f} requests/s")
                best["alone"] = {"rate": max(alone, best.get("alone", {}).get("rate", 0))}
            api_rate, render_rate = best["api"]["rate"], best["splash"]["rate"]
            print(f"  API path {api_rate:.1f} articles/s, Splash path {render_rate:.1f} articles/s: "
                  f"API / Splash = {api_rate / render_rate:.1f}x (expect well over 10x)")
            alone = best["alone"]["rate"]
            print(f"  the API path runs at {api_rate / alone:.2f}x Scrapy alone; Scrapy alone against the Splash path: "
                  f"{alone / render_rate:.1f}x (the most any Scrapy spider gets here)")
            if with_cpu:
                api_cpu, render_cpu = (sum(best[p][k] for k in ("crawl_ms", "splash_ms", "replica_ms"))
                                       for p in ("api", "splash"))
                print(f"  CPU an article, all processes: API path {api_cpu:.2f} ms, Splash path {render_cpu:.2f} ms "
                      f"= {render_cpu / api_cpu:.1f}x")
        ping = splash.ping() or {}
        splash_rss = rss_mb(splash.process.pid)
    print(f"Splash after the runs: RSS {splash_rss:.0f} MB (process and children), "
          f"peak of its main process {ping.get('maxrss', 0) / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
