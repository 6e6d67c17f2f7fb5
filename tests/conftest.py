"""Shared test fixtures: the fixture corpus, replicas of it, and a `scrapy crawl` runner."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from finews.replica import Replica

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_POSTS = ROOT / "tests" / "fixtures" / "posts"


@dataclass
class CrawlResult:
    returncode: int
    items: list[dict]
    rejects: list[dict]
    log: str

    def stat(self, name: str) -> int:
        match = re.search(rf"'{re.escape(name)}': (\d+)", self.log)
        return int(match.group(1)) if match else 0

    def by_code(self) -> dict[str, dict]:
        return {item["info_code"]: item for item in self.items}


def run_crawl(base_url: str, out_dir: Path, *args: str, spider: str = "finews", timeout: int = 300) -> CrawlResult:
    """``scrapy crawl`` in a child process, as an operator runs it; items from -O, rejects from the file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    feed = out_dir / "articles.jsonl"
    log = out_dir / "crawl.log"
    command = [
        sys.executable, "-m", "scrapy", "crawl", spider, "-a", f"base_url={base_url}", "-O", str(feed),
        "-s", f"FINEWS_OUTPUT_DIR={out_dir}", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", f"LOG_FILE={log}",
        "-s", "TELNETCONSOLE_ENABLED=0", *args,
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FINEWS_", "MONGO_URI", "SPLASH_URL"))}
    proc = subprocess.run(command, cwd=ROOT, env=env, timeout=timeout, capture_output=True, text=True, check=False)
    items = [json.loads(line) for line in feed.read_text(encoding="utf-8").splitlines()] if feed.exists() else []
    rejects_file = out_dir / "rejects.jsonl"
    rejects = (
        [json.loads(line) for line in rejects_file.read_text(encoding="utf-8").splitlines()]
        if rejects_file.exists() else []
    )
    text = log.read_text(encoding="utf-8") if log.exists() else ""
    return CrawlResult(proc.returncode, items, rejects, text + proc.stderr)


@pytest.fixture(scope="session")
def replica():
    with Replica(FIXTURE_POSTS) as server:
        yield server


@pytest.fixture(scope="session")
def replica_old_layout():
    with Replica(FIXTURE_POSTS, layout="old") as server:
        yield server


@pytest.fixture(scope="session")
def fixture_crawl(replica, tmp_path_factory) -> CrawlResult:
    """One crawl of the fixture replica, shared by the tests that only read its output."""
    return run_crawl(replica.url, tmp_path_factory.mktemp("fixture-crawl"))
