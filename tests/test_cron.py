"""A cron run you can trust: 0 when all is well, one line and status 2 for every mistake, no false alarms."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from conftest import ROOT
from test_operations import finews, finews_env

from finews import outcome
from finews.defaults import DEFAULTS
from finews.replica import Replica, generate_posts


def test_twenty_incremental_runs_after_refreshes_and_a_backfill_all_exit_0(mongo, tmp_path):
    """The false alarm: after refresh runs, every incremental run of an unchanged site exited 6 ("0 items, far
    below the median"). Nothing new is the normal case of a cron run: the monitor judges only runs that had
    something to do, against runs of their own kind."""
    site_posts, backfill = tmp_path / "site", tmp_path / "backfill"
    generate_posts(site_posts, 40)
    generate_posts(backfill, 40)
    with Replica(site_posts) as site:
        env = finews_env(tmp_path, site.url, mongo, FINEWS_MONITOR_MIN_INPUTS="1", FINEWS_SHARE="0")
        statuses = [finews("crawl", "-a", "refresh=1", env=env).returncode for _ in range(3)]
        statuses.append(finews("crawl", "posts", "-a", f"path={backfill}", env=env).returncode)
        assert statuses == [0, 0, 0, 0]
        for _ in range(20):
            run = finews("crawl", env=env)
            assert run.returncode == outcome.OK, run.stdout + run.stderr
            assert run.stderr == "", run.stderr  # cron mails whatever reaches stderr
    record = mongo.db(env["FINEWS_MONGO_DATABASE"]).crawl_runs.find_one({"kind": "incremental"},
                                                                       sort=[("started_at", -1)])
    assert record["exit_status"] == 0 and record["stats"]["finews/monitors/notes"][0].startswith("not judged")


def test_a_good_run_writes_nothing_to_stderr(mongo, tmp_path):
    """Scrapy 2.19's deprecation warnings (install_root_handler, Spidermon's Spider.log) reached stderr on every
    run: mail from cron every few minutes. See finews/spiders/compat.py."""
    generate_posts(tmp_path / "posts", 5)
    with Replica(tmp_path / "posts") as site:
        run = finews("crawl", env=finews_env(tmp_path, site.url, mongo))
    assert run.returncode == outcome.OK and run.stderr == "", run.stderr


def test_share_missing_with_nothing_missing_exits_0(mongo, tmp_path):
    """It exited 5, "the site is unreachable", when there was simply nothing to do."""
    run = finews("crawl", "share", "-a", "missing=1", env=finews_env(tmp_path, "http://127.0.0.1:9/", mongo))
    assert run.returncode == outcome.OK, run.stdout + run.stderr


def test_the_freshness_monitor_fails_only_when_nothing_new_came_for_too_long(mongo, tmp_path):
    """It read the newest of all articles (a sort with a limit: SecantusDB examined every one); it now asks
    whether any arrived within FINEWS_MONITOR_MAX_SILENCE_HOURS. A quiet site inside the window is all well;
    past it, status 6 and the reason."""
    generate_posts(tmp_path / "posts", 5)
    with Replica(tmp_path / "posts") as site:
        env = finews_env(tmp_path, site.url, mongo, FINEWS_SHARE="0", FINEWS_MONITOR_MAX_SILENCE_HOURS="24")
        assert finews("crawl", env=env).returncode == outcome.OK
        assert finews("crawl", env=env).returncode == outcome.OK  # nothing new, the last new article is recent
        articles = mongo.db(env["FINEWS_MONGO_DATABASE"]).articles
        for doc in articles.find({}, {"first_seen_at": 1}):  # two days pass without a new article
            earlier = doc["first_seen_at"] - timedelta(days=2)
            articles.update_one({"_id": doc["_id"]}, {"$set": {"first_seen_at": earlier}})
        run = finews("crawl", env=env)
    assert run.returncode == outcome.MONITORS_FAILED, run.stdout + run.stderr
    assert "freshness" in run.stdout and "no new article for over 24 h" in run.stdout, run.stdout


# Each mistake an operator can make → the one line it prints (status 2, nothing started).
MISTAKES = [
    (["crawl", "-s", "FINEWS_MONGO_BATCH_SIZE=abc"], {},
     "finews crawl: setting FINEWS_MONGO_BATCH_SIZE='abc' is not a whole number"),
    (["crawl"], {"FINEWS_TIME_LIMIT": "1h"}, "finews crawl: setting FINEWS_TIME_LIMIT='1h' is not a whole number"),
    (["crawl", "-s", "FINEWS_STORE=maybe"], {}, "finews crawl: setting FINEWS_STORE='maybe' is not a boolean"),
    (["crawl", "-s", "FINEWS_REJECT_RAW_MAX_CHARS=9000000"], {},
     "finews crawl: setting FINEWS_REJECT_RAW_MAX_CHARS='9000000' must be >= 0 and <= 4,000,000"),
    (["crawl"], {"MONGO_URI": "mongodb://u:pw@host:notaport/"}, "finews crawl: setting MONGO_URI='mongodb://u:***@"),
    (["crawl"], {"SPLASH_URL": "localhost:8050"}, "finews crawl: setting SPLASH_URL='localhost:8050' is not an"),
    (["crawl", "posts", "-a", "path=/nonexistent"], {}, "finews crawl: -a path=/nonexistent: path not found"),
    (["crawl", "-a", "bogus=1"], {}, "finews crawl: spider 'finews' does not take bogus (it takes: base_url, "
     "categories, feed, refresh, share, urls_file)"),
    (["crawl", "-a", "feed=maybe"], {}, "finews crawl: feed='maybe' is not a boolean (use 1/0, true/false)"),
    (["crawl", "share", "-a", "missing=y"], {}, "finews crawl: missing='y' is not a boolean"),
    (["crawl", "share"], {}, "finews crawl: spider 'share': give -a codes=…, -a codes_file=… or -a missing=1"),
    (["crawl", "nosuch"], {}, "finews crawl: no spider named 'nosuch' (spiders: finews, posts, reparse, share)"),
    (["crawl", "-a", "base_url=http://:pw@"], {}, "finews crawl: -a base_url=http://:***@: not an http(s) URL"),
    (["status", "--runs", "x"], {}, "finews status: argument --runs: invalid int value: 'x'"),
]


@pytest.mark.parametrize(("args", "environ", "line"), MISTAKES, ids=[" ".join(m[0]) + str(m[1]) for m in MISTAKES])
def test_each_mistake_is_one_line_and_status_2(tmp_path, args, environ, line):
    env = finews_env(tmp_path, "http://127.0.0.1:9/", **environ)
    run = finews(*args, env=env, timeout=60)
    assert run.returncode == outcome.USAGE, run.stdout + run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and run.stderr.startswith(line), run.stderr
    assert "pw@" not in run.stderr and not (tmp_path / "data" / "locks").exists()  # nothing started


def test_scrapy_crawl_says_the_same_in_one_line(tmp_path):
    """`scrapy crawl` checks as `finews crawl` does: Scrapy's 50-line traceback for an unknown spider before."""
    env = finews_env(tmp_path, "http://127.0.0.1:9/")
    for args, line in ((["nosuch"], "scrapy crawl: no spider named 'nosuch'"),
                       (["finews", "-a", "feed=maybe"], "scrapy crawl: feed='maybe' is not a boolean"),
                       (["posts", "-a", "path=/nonexistent"], "scrapy crawl: -a path=/nonexistent: path not found")):
        run = subprocess.run([sys.executable, "-m", "scrapy", "crawl", *args], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60, check=False)
        assert run.returncode == outcome.USAGE and "Traceback" not in run.stderr, run.stderr
        assert run.stderr.splitlines()[-1].startswith(line), run.stderr


def test_a_database_that_does_not_answer_is_one_line_and_status_4(tmp_path):
    env = finews_env(tmp_path, "http://127.0.0.1:9/", MONGO_URI="mongodb://ops:s3cret@127.0.0.1:9/",
                     FINEWS_MONGO_TIMEOUT_MS="300")
    for command in (["status"], ["stats"], ["export"], ["rejects"]):
        started = time.monotonic()
        run = finews(*command, env=env, timeout=60)
        assert run.returncode == outcome.STORAGE_DOWN, run.stdout + run.stderr
        assert run.stderr.splitlines() == [f"finews {command[0]}: MongoDB at mongodb://ops:***@127.0.0.1:9/ does not "
                                           "answer (ServerSelectionTimeoutError)"]
        assert time.monotonic() - started < 10


def test_a_redis_that_does_not_answer_is_one_line_and_status_4(tmp_path):
    """A distributed run with Redis down ended 7 with unhandled-Deferred tracebacks; now it is found before
    anything starts (no lock taken, no run record), from both crawl commands, with the password hidden."""
    env = finews_env(tmp_path, "http://127.0.0.1:9/", FINEWS_STORE="0")
    where = "redis://:***@127.0.0.1:9/0"
    runs = ((finews("crawl", "--distributed", "redis://:s3cret@127.0.0.1:9/0", env=env, timeout=60),
             f"finews crawl: Redis at {where} does not answer (ConnectionError)"),
            (subprocess.run([sys.executable, "-m", "scrapy", "crawl", "finews", "-s",
                             "FINEWS_REDIS_URL=redis://:s3cret@127.0.0.1:9/0"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60, check=False),
             f"scrapy crawl: Redis at {where} does not answer (ConnectionError)"))
    for run, line in runs:
        assert run.returncode == outcome.STORAGE_DOWN, run.stdout + run.stderr
        assert run.stderr.splitlines()[-1] == line and "Traceback" not in run.stderr, run.stderr
        assert "s3cret" not in run.stdout + run.stderr
    assert not (tmp_path / "data" / "locks").exists()


@pytest.mark.parametrize("name", sorted(n for n, v in DEFAULTS.items() if isinstance(v, (bool, int, float))))
def test_every_typed_setting_is_checked_from_s_and_from_the_environment(name, monkeypatch, capsys):
    """Read through -s and through the environment alike: a bad value is one line naming it, status 2, before
    anything starts. In-process (the subprocess route is MISTAKES' above): finews.settings reads the
    environment when it is imported, so it is imported again with the variable set."""
    import finews.settings  # noqa: PLC0415
    from finews.cli import main  # noqa: PLC0415

    assert main(["crawl", "-s", f"{name}=bad value"]) == outcome.USAGE
    monkeypatch.setenv(name, "bad value")
    importlib.reload(finews.settings)
    try:
        assert main(["crawl"]) == outcome.USAGE
    finally:
        monkeypatch.delenv(name)
        importlib.reload(finews.settings)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and all(line.startswith(f"finews crawl: setting {name}='bad value'") for line in lines)


def test_time_and_idle_limits_from_s_are_honoured(mongo, tmp_path):
    """settings.py turned the environment's limits into CLOSESPIDER_* at import: -s was ignored."""
    posts = tmp_path / "posts"
    generate_posts(posts, 150)
    with Replica(posts, latency=0.05) as site:
        env = finews_env(tmp_path, site.url, mongo, CONCURRENT_REQUESTS="1")
        run = finews("crawl", "-s", "FINEWS_TIME_LIMIT=1", env=env)
    assert run.returncode == outcome.CUT_SHORT and "closespider_timeout" in run.stdout, run.stdout


def test_passwords_never_reach_stderr_the_log_the_run_record_or_status(mongo, tmp_path):
    generate_posts(tmp_path / "posts", 3)
    with Replica(tmp_path / "posts") as site:
        host = site.url.split("://", 1)[1]
        env = finews_env(tmp_path, site.url, mongo, FINEWS_REDIS_URL="", FINEWS_SHARE="0")
        run = finews("crawl", "-a", f"base_url=http://:Pa55word@{host}", env=env)
        status = finews("status", env=env)
    # Twisted refuses a URL with a password and no user ("invalid hostname"): the run may fetch nothing.
    assert run.returncode in (outcome.OK, outcome.NOTHING_FETCHED), run.stdout + run.stderr
    record = mongo.db(env["FINEWS_MONGO_DATABASE"]).crawl_runs.find_one()
    log = (tmp_path / "out" / "finews.log").read_text(encoding="utf-8")
    for text in (run.stdout, run.stderr, log, str(record), status.stdout):
        assert "Pa55word" not in text
    assert record["arguments"]["base_url"] == f"http://:***@{host}"


def test_the_splash_helper_stops_with_its_launcher_on_sigterm(tmp_path):
    """`python -m finews.splash.process` stopped with SIGTERM left its launcher and Xvfb running."""
    if not (ROOT / ".splash").exists():
        pytest.skip("no Splash installed (make splash)")
    port = 18000 + os.getpid() % 1000
    helper = subprocess.Popen([sys.executable, "-m", "finews.splash.process", "--port", str(port)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    line = helper.stdout.readline()
    assert "http://" in line, line
    children = _descendants(helper.pid)
    assert children
    helper.send_signal(signal.SIGTERM)
    assert helper.wait(timeout=60) == 0
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in children if _alive(pid)]


def _descendants(pid: int) -> list[int]:
    listing = subprocess.run(["ps", "-eo", "pid=,ppid="], capture_output=True, text=True, check=True).stdout
    parents = [tuple(map(int, line.split())) for line in listing.splitlines()]
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        kids = [child for child, ppid in parents if ppid == parent]
        found += kids
        frontier += kids
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def test_the_demo_touches_no_network(tmp_path):
    """`make demo` is offline: its share requests went to the live share hosts (a DNS failure each)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FINEWS_", "MONGO_URI", "SPLASH_URL"))}
    run = subprocess.run([sys.executable, "-m", "finews.demo", "--generate", "30", "--output", str(tmp_path / "demo")],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    output = run.stdout + run.stderr
    assert run.returncode == outcome.OK, output
    assert "DNSLookupError" not in output and "zning.xyz" not in output and "eastmoney.com:" not in output
    assert "'finews/share/ok/api'" in output  # share pages read, from the replica
