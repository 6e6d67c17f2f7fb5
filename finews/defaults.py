"""Every finews setting with its default, in one place.

Values here are the defaults; ``finews.settings`` overlays environment
variables of the same name, and ``-s NAME=value`` on the command line wins
over both. docs/configuration.md documents each one. ``check`` validates them
all once, before a command does any work: the type of the default is the type
a value must have, and a few have bounds.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from pymongo.errors import ConfigurationError, InvalidURI
from pymongo.uri_parser import parse_uri

from finews.arguments import ArgumentProblem, parse_bool
from finews.redact import redact

LIVE_SITE = "https://finews.withounder.com/"

DEFAULTS: dict[str, Any] = {
    # Where the site lives; point it at a replica with -a base_url=... or this setting.
    "FINEWS_BASE_URL": LIVE_SITE,
    # Comma-separated category slugs: crawl only these category pages (empty: everything).
    "FINEWS_CATEGORIES": "",
    # Also read /feed.xml for the newest posts.
    "FINEWS_FOLLOW_FEED": True,
    # Folder for local output (rejects file, journal, embedded store).
    "FINEWS_OUTPUT_DIR": "output",
    # Rejects file; empty means <FINEWS_OUTPUT_DIR>/rejects.jsonl.
    "FINEWS_REJECTS_FILE": "",
    # Largest raw input kept in a reject record (characters); the rest is cut and marked.
    "FINEWS_REJECT_RAW_MAX_CHARS": 2_000_000,
    # An article whose sanitized body is longer than this is rejected (body_too_large).
    "FINEWS_MAX_BODY_CHARS": 1_000_000,
    # Largest post source file the posts spider reads (a larger one is a reject file_too_large, not read).
    "FINEWS_MAX_SOURCE_BYTES": 32 * 1024 * 1024,
    # Archive articles in MongoDB (the store pipeline); off only for runs that just export files.
    "FINEWS_STORE": True,
    # Raw captures: every response read, as WARC 1.1 in <FINEWS_DATA_DIR>/warc/, rotated at this size.
    "FINEWS_WARC": True,
    "FINEWS_WARC_MAX_BYTES": 1_000_000_000,
    # Close conditions: a run never hangs (seconds; 0 turns one off).
    "FINEWS_TIME_LIMIT": 3600,
    "FINEWS_IDLE_LIMIT": 900,
    # `finews crawl`: its rotating log file (empty: <FINEWS_OUTPUT_DIR>/finews.log), size and copies kept.
    "FINEWS_LOG_FILE": "",
    "FINEWS_LOG_MAX_BYTES": 10_000_000,
    "FINEWS_LOG_BACKUPS": 5,
    # Monitors: errors logged at most; share of inputs rejected at most; items an input at least this share
    # of the median of the last N good runs of the same spider and kind (judged from FINEWS_MONITOR_MIN_INPUTS
    # inputs on); the newest archived article at most this old (finews spider; 0 turns it off).
    "FINEWS_MONITOR_MAX_ERRORS": 10,
    "FINEWS_MONITOR_MAX_REJECT_SHARE": 0.2,
    "FINEWS_MONITOR_MIN_ITEMS_RATIO": 0.2,
    "FINEWS_MONITOR_RECENT_RUNS": 10,
    "FINEWS_MONITOR_MIN_INPUTS": 20,
    "FINEWS_MONITOR_MAX_SILENCE_HOURS": 0.0,
    # Distributed crawling (scrapy-redis): unset means the single-process scheduler.
    "FINEWS_REDIS_URL": "",
    # A crawl session's fingerprints expire this long after its last check; a worker waits this long for
    # work from the others before closing; empty the shared queue when a worker starts.
    "FINEWS_REDIS_SESSION_SECONDS": 900,
    "FINEWS_REDIS_IDLE_SECONDS": 10.0,
    "FINEWS_REDIS_FLUSH_ON_START": False,
    # How often the import progress line is redrawn on a terminal.
    "FINEWS_PROGRESS_SECONDS": 1.0,
    # Gen-0 threshold of Python's garbage collector during a crawl (extensions/gc_tuning.py); 0: leave it.
    "FINEWS_GC_THRESHOLD": 10_000,
    # MongoDB server; empty means the embedded default store (SecantusDB on FINEWS_DATA_DIR/mongo).
    "MONGO_URI": "",
    "FINEWS_MONGO_DATABASE": "finews",
    # Local state: the embedded store (mongo/) and the write journal (journal/).
    "FINEWS_DATA_DIR": "data",
    # Journal folder; empty means <FINEWS_DATA_DIR>/journal.
    "FINEWS_JOURNAL_DIR": "",
    # The SecantusDB server program; empty means .secantus/bin/secantusd-py, else PATH.
    "FINEWS_EMBEDDED_BIN": "",
    # Port of the embedded server (0: any free port; fix it to let downstream jobs connect).
    "FINEWS_EMBEDDED_PORT": 0,
    # Days of changes the embedded store keeps for `finews changes` (its oplog window; a job must read within it).
    "FINEWS_CHANGES_DAYS": 7.0,
    # Changes it keeps at most (oplog entries: an insert, an update or a sighting each): the bound on its disk,
    # whichever of the two comes first. Half a million is weeks of cron runs and a full import of the site.
    "FINEWS_CHANGES_MAX_ENTRIES": 500_000,
    # Articles per bulk write, seconds before a partial batch is written, articles buffered at most.
    "FINEWS_MONGO_BATCH_SIZE": 200,
    "FINEWS_MONGO_FLUSH_SECONDS": 2.0,
    "FINEWS_MONGO_MAX_PENDING": 2000,
    "FINEWS_MONGO_TIMEOUT_MS": 5000,
    # Days a crawl_runs record is kept (older ones are deleted at the end of each run); the yield monitor
    # compares with the last FINEWS_MONITOR_RECENT_RUNS good runs of a kind, which must fall within it.
    "FINEWS_RUNS_KEEP_DAYS": 90.0,
    # Earlier versions kept per article, newest first.
    "FINEWS_MAX_REVISIONS": 10,
    # Also visit the category pages of articles seen in the last N days (0: only what the site links).
    "FINEWS_SEED_CATEGORY_DAYS": 7.0,
    # Re-fetch posts the archive has and ignore listing validators (-a refresh=1 wins).
    "FINEWS_REFRESH": False,
    # Share pages: follow share links from posts (-a share=0 turns it off).
    "FINEWS_SHARE": True,
    # The only hosts whose share links are fetched or rendered.
    "FINEWS_SHARE_HOSTS": "finews.zning.xyz,choicewzp1.eastmoney.com",
    # Send share requests to this host instead of the link's (a mirror, or the replica in tests).
    "FINEWS_SHARE_BASE_URL": "",
    # Splash renders share pages whose JSON endpoint fails; empty: no rendering, such pages are marked failed.
    "SPLASH_URL": "",
    # Longest wait for the article to appear in the rendered page; Splash's own timeout for a render.
    "FINEWS_SPLASH_WAIT": 10.0,
    "FINEWS_SPLASH_TIMEOUT": 30.0,
    # Failures in a row that open the circuit breaker, its first cooldown, the first retry's backoff.
    "FINEWS_SPLASH_BREAKER_THRESHOLD": 5,
    "FINEWS_SPLASH_BREAKER_SECONDS": 60.0,
    "FINEWS_SPLASH_RETRY_BACKOFF": 1.0,
}


def from_environment(defaults: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Overlay environment variables on the defaults; Scrapy's typed getters parse the strings."""
    env = os.environ if environ is None else environ
    return {name: env.get(name, value) for name, value in defaults.items()}


# Smallest values that make sense (0 turns the time limits, the GC tuning and a few monitors off).
MINIMUM: dict[str, float] = {
    "FINEWS_MONGO_BATCH_SIZE": 1, "FINEWS_MONGO_MAX_PENDING": 1, "FINEWS_MONGO_TIMEOUT_MS": 1,
    "FINEWS_MAX_BODY_CHARS": 1, "FINEWS_MAX_SOURCE_BYTES": 1, "FINEWS_LOG_MAX_BYTES": 1,
    "FINEWS_MONITOR_RECENT_RUNS": 1, "FINEWS_PROGRESS_SECONDS": 0.01, "FINEWS_MONGO_FLUSH_SECONDS": 0.01,
    "FINEWS_CHANGES_DAYS": 0.01, "FINEWS_REDIS_SESSION_SECONDS": 1, "FINEWS_RUNS_KEEP_DAYS": 1,
    "FINEWS_CHANGES_MAX_ENTRIES": 1000, "FINEWS_WARC_MAX_BYTES": 1_000_000,
}
# Largest: a reject's raw input must fit a 16 MiB document at 4 bytes a character (finews.rejects);
# shares are shares; a port is a port.
MAXIMUM: dict[str, float] = {
    "FINEWS_REJECT_RAW_MAX_CHARS": 4_000_000, "FINEWS_MONITOR_MAX_REJECT_SHARE": 1.0,
    "FINEWS_MONITOR_MIN_ITEMS_RATIO": 1.0, "FINEWS_EMBEDDED_PORT": 65535,
}
HTTP_URLS = ("FINEWS_BASE_URL", "FINEWS_SHARE_BASE_URL", "SPLASH_URL")
REDIS_SCHEMES = ("redis", "rediss", "unix")


def check(settings: Any) -> None:
    """Raise ArgumentProblem naming the first finews setting whose value cannot be used."""
    for name, default in DEFAULTS.items():
        value = settings.get(name)
        shown = redact(str(value))
        if isinstance(default, bool):
            try:
                parse_bool(value, name)
            except ArgumentProblem as exc:
                raise ArgumentProblem(f"setting {exc}") from None
            continue
        if isinstance(default, (int, float)):
            try:
                number = settings.getint(name) if isinstance(default, int) else settings.getfloat(name)
            except (TypeError, ValueError):
                kind = "a whole number" if isinstance(default, int) else "a number"
                raise ArgumentProblem(f"setting {name}={shown!r} is not {kind}") from None
            low, high = MINIMUM.get(name, 0), MAXIMUM.get(name)
            if number < low or (high is not None and number > high):
                bounds = f">= {low:,.10g}" + (f" and <= {high:,.10g}" if high is not None else "")
                raise ArgumentProblem(f"setting {name}={shown!r} must be {bounds}")
            continue
        _check_text(name, str(value or ""))


def _check_text(name: str, value: str) -> None:
    shown = redact(value)
    if name in HTTP_URLS and (value or name == "FINEWS_BASE_URL"):
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ArgumentProblem(f"setting {name}={shown!r} is not an http(s) URL")
    elif name == "FINEWS_REDIS_URL" and value and urlsplit(value).scheme not in REDIS_SCHEMES:
        raise ArgumentProblem(f"setting {name}={shown!r} is not a redis:// URL")
    elif name == "MONGO_URI" and value and not value.startswith("mongodb+srv://"):  # +srv would ask DNS here
        try:
            parse_uri(value)
        except (InvalidURI, ConfigurationError, ValueError) as exc:
            raise ArgumentProblem(f"setting MONGO_URI={shown!r}: {redact(str(exc))}") from None
