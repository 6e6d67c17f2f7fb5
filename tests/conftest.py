"""Shared test fixtures: the fixture corpus, replicas of it, and a `scrapy crawl` runner."""

from __future__ import annotations

import functools
import itertools
import json
import os
import re
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

sys.path.insert(0, str(Path(__file__).parent))

from pymongo import MongoClient

from finews.replica import Replica
from finews.splash.process import SplashProcess
from finews.storage.embedded import EmbeddedServer, free_port

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_POSTS = ROOT / "tests" / "fixtures" / "posts"
_databases = itertools.count()


class Mongo:
    """The test session's MongoDB server (SecantusDB, or a real mongod given by FINEWS_TEST_MONGO_URI)."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.client = MongoClient(uri, tz_aware=True)

    def new_database(self) -> str:
        """A database of its own for each test (so tests never see each other's articles)."""
        return f"finews_test_{os.getpid()}_{next(_databases)}"

    def db(self, name: str):
        return self.client[name]


@dataclass
class CrawlResult:
    returncode: int
    items: list[dict]
    rejects: list[dict]
    log: str
    database: str | None = None

    def stat(self, name: str) -> int:
        """A counter of the run's stats dump; 0 for one the run never counted (Scrapy dumps no zeros).

        A name neither finews nor Scrapy can count, or a log without a stats dump, fails the
        test: an ``== 0`` on a misspelled or renamed stat must not pass.
        """
        assert "Dumping Scrapy stats" in self.log, "the run's log has no stats dump"
        match = re.search(rf"'{re.escape(name)}': (\d+)", self.log)
        if match:
            return int(match.group(1))
        assert known_stat(name), f"no code counts a stat named {name!r}"
        return 0

    def posts(self) -> list[dict]:
        """The items made from post pages (not from share pages)."""
        return [item for item in self.items if item["via"] == "post_page"]

    def by_code(self) -> dict[str, dict]:
        return {item["info_code"]: item for item in self.posts()}


@functools.cache
def _stat_sources() -> str:
    import scrapy  # noqa: PLC0415

    folders = [ROOT / "finews", Path(scrapy.__file__).parent]
    return "\n".join(path.read_text(encoding="utf-8") for folder in folders for path in folder.rglob("*.py"))


def known_stat(name: str) -> bool:
    """Some code of finews or Scrapy names this stat: whole, or as an f-string prefix whose last part is
    one of the code's string literals (``finews/dropped/{reason}`` with ``"missing_title"``) or a number."""
    sources = _stat_sources()
    prefix, _, last = name.rpartition("/")
    if f'"{name}"' in sources or f"'{name}'" in sources:
        return True
    return f'f"{prefix}/{{' in sources and (last.isdigit() or f'"{last}"' in sources or f"'{last}'" in sources)


@functools.cache
def allowed_deprecations() -> list[re.Pattern]:
    """The third-party deprecation messages pyproject.toml's filterwarnings ignores (one list for both)."""
    filters = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    return [re.compile(f.split(":")[1]) for f in filters["filterwarnings"] if f.startswith("ignore:")]


def assert_no_deprecations(log: str) -> None:
    """A child process's ScrapyDeprecationWarnings fail the test, as the test process's own do."""
    found = [line for line in log.splitlines() if "ScrapyDeprecationWarning:" in line
             and not any(p.search(line.split("ScrapyDeprecationWarning:", 1)[1].strip())
                         for p in allowed_deprecations())]
    assert not found, "deprecated API used:\n" + "\n".join(found)


def run_crawl(base_url: str, out_dir: Path, *args: str, spider: str = "finews", timeout: int = 300,
              mongo: Mongo | None = None, database: str | None = None, env: dict | None = None) -> CrawlResult:
    """``scrapy crawl`` in a child process, as an operator runs it.

    Items come from -O; with ``mongo`` the run archives into ``database`` (a fresh
    one unless given) and its rejects are read from there, else storing is off and
    rejects come from the file.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    feed = out_dir / "articles.jsonl"
    log = out_dir / "crawl.log"
    settings = {
        "FINEWS_OUTPUT_DIR": out_dir, "FINEWS_DATA_DIR": out_dir / "data", "AUTOTHROTTLE_ENABLED": 0,
        "LOG_FILE": log, "TELNETCONSOLE_ENABLED": 0, "FINEWS_MONGO_FLUSH_SECONDS": 0.5,
        # Share pages come from the replica too: tests never reach the live hosts.
        "FINEWS_SHARE_BASE_URL": base_url,
    }
    if mongo is None:
        settings["FINEWS_STORE"] = 0
    else:
        database = database or mongo.new_database()
        settings.update(MONGO_URI=mongo.uri, FINEWS_MONGO_DATABASE=database)
    site = ["-a", f"base_url={base_url}"] if spider != "share" else []  # share pages go to FINEWS_SHARE_BASE_URL
    command = [sys.executable, "-m", "scrapy", "crawl", spider, *site, "-O", str(feed)]
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    command += list(args)
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith(("FINEWS_", "MONGO_URI", "SPLASH_URL"))}
    proc = subprocess.run(command, cwd=ROOT, env={**clean_env, **(env or {})}, timeout=timeout,
                          capture_output=True, text=True, check=False)
    items = [json.loads(line) for line in feed.read_text(encoding="utf-8").splitlines()] if feed.exists() else []
    if mongo is not None:
        rejects = list(mongo.db(database).rejects.find({}, {"_id": 0}))
    else:
        rejects_file = out_dir / "rejects.jsonl"
        rejects = (
            [json.loads(line) for line in rejects_file.read_text(encoding="utf-8").splitlines()]
            if rejects_file.exists() else []
        )
    text = log.read_text(encoding="utf-8") if log.exists() else ""
    assert_no_deprecations(text + proc.stderr)
    return CrawlResult(proc.returncode, items, rejects, text + proc.stderr, database)


@pytest.fixture(autouse=True)
def nothing_written_into_the_project():
    """A run without FINEWS_DATA_DIR writes its state (journal, captures) into the project's data/: no test may."""
    there = (ROOT / "data").exists()
    yield
    assert there or not (ROOT / "data").exists(), "this test wrote into the project's data/ (give it FINEWS_DATA_DIR)"


@pytest.fixture(scope="session")
def mongo(tmp_path_factory):
    """One server for the whole session: started here unless FINEWS_TEST_MONGO_URI names one."""
    given = os.environ.get("FINEWS_TEST_MONGO_URI")
    if given:
        yield Mongo(given)
        return
    server = EmbeddedServer(tmp_path_factory.mktemp("mongo") / "mongo", binary=os.environ.get("FINEWS_EMBEDDED_BIN"))
    uri = server.start()
    try:
        yield Mongo(uri)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def replica():
    with Replica(FIXTURE_POSTS) as server:
        yield server


@pytest.fixture(scope="session")
def replica_old_layout():
    with Replica(FIXTURE_POSTS, layout="old") as server:
        yield server


@pytest.fixture(scope="session")
def fixture_crawl(replica, mongo, tmp_path_factory) -> CrawlResult:
    """One crawl of the fixture replica into its own database, shared by the tests that only read its output."""
    return run_crawl(replica.url, tmp_path_factory.mktemp("fixture-crawl"), mongo=mongo)


@pytest.fixture(scope="session")
def splash_process(tmp_path_factory):
    """One real Splash server for the session (scripts/install-splash.sh installs it)."""
    server = SplashProcess(log_path=tmp_path_factory.mktemp("splash") / "splash.log").start()
    yield server
    server.stop()


@pytest.fixture
def splash(splash_process):
    """The session's Splash, restarted first if it stopped answering /_ping."""
    return splash_process.ensure()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real redis-server for the session (Debian's; scripts/system-deps.sh installs it)."""
    given = os.environ.get("FINEWS_TEST_REDIS_URL")
    if given:
        yield given
        return
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(folder)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 30
    while True:
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            assert time.monotonic() < deadline and server.poll() is None, "redis-server did not start"
            time.sleep(0.1)
    yield url
    server.terminate()
    server.wait(timeout=30)
