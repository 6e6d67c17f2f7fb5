"""``finews``: the operator's command line, thin over Scrapy and the archive.

    finews crawl [SPIDER] [-a NAME=VALUE]... [-s NAME=VALUE]... [--distributed REDIS_URL]
                                                                   the cron entry: lock, log file, exit status
    finews status [--runs N]                                       recent runs and lock holders
    finews stats [--days N]                                        articles per day, source, category; rejects
    finews rejects [list] [--reason R] [--limit N]                 rejected inputs
    finews rejects requeue [--reason R] [--limit N]                run them again
    finews export [--format jsonl|markdown] [--since D] [--until D] [--category C] [--out PATH]
    finews serve [--port P]                                        serve the embedded store to downstream jobs

Errors in arguments print one line and exit 2; `finews crawl` exits with the run's
outcome (README, Operations).
"""

from __future__ import annotations

import argparse
import json
import logging
import logging.handlers
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import redis
from pymongo.errors import PyMongoError
from scrapy.crawler import CrawlerProcess
from scrapy.utils.log import configure_logging
from scrapy.utils.project import get_project_settings

from finews import outcome
from finews.dates import CST, parse_post_date
from finews.lock import LockHeld, RunLock, describe, holders
from finews.redact import install_log_redaction, redact
from finews.storage.archive import Archive
from finews.storage.changes import FeedError, changes, parse_cursor
from finews.storage.embedded import main as serve_embedded
from finews.storage.journal import Journal, folder_for

logger = logging.getLogger("finews.cli")
SUMMARY_STATS = ("finews/articles/new", "finews/articles/unchanged", "finews/articles/merged",
                 "finews/articles/revised", "item_scraped_count", "response_received_count")


class ArgumentError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise ArgumentError(f"{self.prog}: {message}")


def main(argv: list[str] | None = None) -> int:
    install_log_redaction()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "command", None):
            raise ArgumentError("finews: give a command: crawl, status, stats, rejects, export, changes, serve")
        return args.run(args)
    except ArgumentError as exc:
        print(str(exc).splitlines()[0], file=sys.stderr)
        return outcome.USAGE
    except BrokenPipeError:  # `finews stats | head`
        return outcome.OK


def build_parser() -> Parser:
    parser = Parser(prog="finews", description="finews: crawler and archiver of finews.withounder.com")
    commands = parser.add_subparsers(dest="command", parser_class=Parser)
    crawl = commands.add_parser("crawl", help="run a spider as cron does")
    crawl.add_argument("spider", nargs="?", default="finews", choices=["finews", "share", "posts"])
    crawl.add_argument("-a", dest="spider_args", action="append", default=[], metavar="NAME=VALUE")
    crawl.add_argument("-s", dest="settings", action="append", default=[], metavar="NAME=VALUE")
    crawl.add_argument("--distributed", metavar="REDIS_URL",
                       help="join (or start) the crawl shared through this Redis (same as -s FINEWS_REDIS_URL=…)")
    crawl.set_defaults(run=run_crawl)
    status = commands.add_parser("status", help="recent runs and lock holders")
    status.add_argument("--runs", type=int, default=10)
    status.set_defaults(run=run_status)
    stats = commands.add_parser("stats", help="articles per day, source and category; revisions; rejects")
    stats.add_argument("--days", type=int, default=7)
    stats.set_defaults(run=run_stats)
    rejects = commands.add_parser("rejects", help="list or re-queue rejected inputs")
    rejects.add_argument("action", nargs="?", default="list", choices=["list", "requeue"])
    rejects.add_argument("--reason")
    rejects.add_argument("--limit", type=int, default=50)
    rejects.set_defaults(run=run_rejects)
    export = commands.add_parser("export", help="articles as JSON lines or Jekyll-style Markdown posts")
    export.add_argument("--format", choices=["jsonl", "markdown"], default="jsonl")
    export.add_argument("--since", type=_day, help="YYYY-MM-DD (UTC+8), inclusive")
    export.add_argument("--until", type=_day, help="YYYY-MM-DD (UTC+8), inclusive")
    export.add_argument("--category")
    export.add_argument("--out", type=Path, help="a file (jsonl) or a folder (markdown); default stdout (jsonl)")
    export.set_defaults(run=run_export)
    feed = commands.add_parser("changes", help="articles changed after a cursor or a date: one JSON line each, "
                               "then the cursor to read on from")
    feed.add_argument("--since", type=_since, metavar="CURSOR|DATE",
                      help="the cursor of the last line read before, or a date (YYYY-MM-DD[ HH:MM[:SS]], UTC+8); "
                           "default: now")
    feed.add_argument("--limit", type=int, default=10_000, help="at most this many changes (default 10000)")
    feed.set_defaults(run=run_changes)
    serve = commands.add_parser("serve", help="serve the embedded store on a port for downstream jobs")
    serve.add_argument("--port", type=int, default=27017)
    serve.set_defaults(run=lambda a: serve_embedded(["--data-dir", _settings([]).get("FINEWS_DATA_DIR"),
                                                     "--port", str(a.port), "--changes-days",
                                                     str(_settings([]).getfloat("FINEWS_CHANGES_DAYS"))]))
    return parser


def _day(text: str) -> datetime:
    moment = parse_post_date(text)
    if moment is None or len(text.strip()) != 10:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}")
    return moment


def _since(text: str) -> str | datetime:
    """A cursor (``<seconds>.<increment>``) as it is, a date as a moment."""
    if "-" not in text:
        try:
            parse_cursor(text)  # refused here, before anything connects
        except FeedError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return text
    moment = parse_post_date(text)
    if moment is None:
        raise argparse.ArgumentTypeError(f"neither a cursor nor a date: {text!r}")
    return moment


def _pairs(values: list[str], flag: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        name, sep, setting = value.partition("=")
        if not sep or not name:
            raise ArgumentError(f"finews crawl: {flag} takes NAME=VALUE, not {value!r}")
        pairs[name] = setting
    return pairs


def _settings(overrides: list[str]) -> Any:
    settings = get_project_settings()
    settings.setdict(_pairs(overrides, "-s"), priority="cmdline")
    return settings


# -- crawl ------------------------------------------------------------------------------------


def run_crawl(args: argparse.Namespace) -> int:
    if args.distributed:
        args.settings.append(f"FINEWS_REDIS_URL={args.distributed}")
    settings = _settings(args.settings)
    spider_args = _pairs(args.spider_args, "-a")
    command = redact(" ".join(["finews crawl", args.spider, *(f"-a {a}" for a in args.spider_args)]))
    log_file = _log_to_file(settings)
    lock = RunLock(Path(settings.get("FINEWS_DATA_DIR")) / "locks", args.spider)
    try:
        lock.acquire(command)
    except LockHeld as exc:
        logger.info("finews crawl %s: not started, %s", args.spider, exc)
        print(f"finews crawl {args.spider}: not started, {exc}", file=sys.stderr)
        return outcome.LOCKED
    try:
        started = time.monotonic()
        process = CrawlerProcess(settings, install_root_handler=False)
        crawler = process.create_crawler(args.spider)
        process.crawl(crawler, **spider_args)
        process.start()
        if process.bootstrap_failed:
            status, why = outcome.CUT_SHORT, "the spider did not start (see the log)"
            stats: dict[str, Any] = {}
        else:
            stats = crawler.stats.get_stats()
            status, why = outcome.exit_status(stats)
        counts = " ".join(f"{name.rsplit('/', 1)[-1]}={stats.get(name, 0)}" for name in SUMMARY_STATS)
        line = (f"finews crawl {args.spider}: exit {status} ({why}); {counts}; "
                f"{time.monotonic() - started:.1f}s; log {log_file}")
        logger.log(logging.ERROR if status else logging.INFO, "%s", line)
        print(line)
        return status
    finally:
        lock.release()


def _log_to_file(settings: Any) -> Path:
    """Scrapy's log into a rotating file; warnings and errors also on stderr (cron mails those)."""
    path = Path(settings.get("FINEWS_LOG_FILE") or Path(settings.get("FINEWS_OUTPUT_DIR")) / "finews.log")
    path.parent.mkdir(parents=True, exist_ok=True)
    configure_logging(settings, install_root_handler=False)
    formatter = logging.Formatter(settings.get("LOG_FORMAT"), settings.get("LOG_DATEFORMAT"))
    to_file = logging.handlers.RotatingFileHandler(path, maxBytes=settings.getint("FINEWS_LOG_MAX_BYTES"),
                                                   backupCount=settings.getint("FINEWS_LOG_BACKUPS"),
                                                   encoding="utf-8")
    to_file.setLevel(settings.get("LOG_LEVEL"))
    to_stderr = logging.StreamHandler(sys.stderr)
    to_stderr.setLevel(logging.WARNING)
    root = logging.getLogger()
    root.setLevel(logging.DEBUG)
    for handler in (to_file, to_stderr):
        handler.setFormatter(formatter)
        root.addHandler(handler)
    return path


# -- reading the archive ------------------------------------------------------------------------


@contextmanager
def archive() -> Iterator[Archive]:
    store = Archive.from_settings(_settings([]))
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    store.open()
    try:
        yield store
    finally:
        store.close()


def _iso(value: Any) -> str:
    return value.astimezone(CST).isoformat(timespec="seconds") if isinstance(value, datetime) else str(value)


def run_status(args: argparse.Namespace) -> int:
    settings = _settings([])
    with archive() as store:
        runs = list(store.db.crawl_runs.find().sort("started_at", -1).limit(args.runs))
    print(f"{'started (UTC+8)':25} {'spider':7} {'status':9} {'reason':22} {'items':>6} {'new':>5} {'errors':>6}")
    for run in runs:
        stats = run.get("stats") or {}
        print(f"{_iso(run.get('started_at')):25} {run.get('spider', ''):7} {run.get('status', ''):9} "
              f"{run.get('finish_reason', '')!s:22} {stats.get('item_scraped_count', 0):>6} "
              f"{stats.get('finews/articles/new', 0):>5} {run.get('errors', 0):>6}")
        for failure in stats.get("finews/monitors/failures") or []:
            print(f"    monitor failed: {failure}")
    journal = Journal(folder_for(settings), Archive.from_settings(settings).target)
    others = "".join(f"; {count} for {target} (left in place)" for target, count in journal.foreign())
    print(f"journal: {journal.pending_segments()} segment(s) for this archive{others}")
    if settings.get("FINEWS_REDIS_URL"):
        _redis_status(settings.get("FINEWS_REDIS_URL"))
    locks = holders(Path(settings.get("FINEWS_DATA_DIR")) / "locks")
    for name, holder, held in locks:
        print(f"lock {name}: {'held by ' + describe(holder) if held else 'free'}")
    if not locks:
        print("no locks")
    return outcome.OK


def _redis_status(url: str) -> None:
    """The shared queues and crawl sessions in Redis: what a distributed crawl has left to do."""
    client = redis.Redis.from_url(url)
    for spider in ("finews", "share", "posts"):
        queued = client.zcard(f"finews:{spider}:requests")
        session = client.get(f"finews:{spider}:session")
        seen = client.scard(f"finews:{spider}:seen:{session.decode()}") if session else 0
        state = f"session {session.decode()} (ttl {client.ttl(f'finews:{spider}:session')} s)" if session else "idle"
        print(f"redis {spider}: {queued} request(s) queued, {seen} seen, {state}")


def run_changes(args: argparse.Namespace) -> int:
    with archive() as store:
        try:
            for line in changes(store.db, args.since, args.limit):
                print(json.dumps(line, ensure_ascii=False, default=_iso), flush=True)
        except FeedError as exc:
            print(f"finews changes: {exc}", file=sys.stderr)
            return outcome.USAGE
        except PyMongoError as exc:
            print(f"finews changes: MongoDB at {redact(store.uri)} does not answer ({type(exc).__name__})",
                  file=sys.stderr)
            return outcome.STORAGE_DOWN
    return outcome.OK


def run_stats(args: argparse.Namespace) -> int:
    since = datetime.now(UTC) - timedelta(days=args.days)
    with archive() as store:
        articles = store.articles
        total = articles.count_documents({})
        revised = articles.count_documents({"revisions.0": {"$exists": True}})
        per_day = articles.aggregate([
            {"$match": {"published_at": {"$gte": since}}},
            {"$group": {"_id": {"$dateToString": {"format": "%Y-%m-%d", "date": "$published_at",
                                                   "timezone": "+08:00"}}, "n": {"$sum": 1}}},
            {"$sort": {"_id": -1}},
        ])
        per_source = articles.aggregate([{"$group": {"_id": "$source", "n": {"$sum": 1}}},
                                         {"$sort": {"n": -1}}, {"$limit": 15}])
        per_category = articles.aggregate([{"$group": {"_id": "$category", "n": {"$sum": 1}}},
                                           {"$sort": {"n": -1}}, {"$limit": 15}])
        rejects = store.db.rejects.aggregate([{"$group": {"_id": "$reason", "n": {"$sum": 1}}},
                                              {"$sort": {"n": -1}}])
        print(f"articles {total}, with revisions {revised}")
        for title, rows in ((f"per day (last {args.days} days, UTC+8)", per_day), ("per source", per_source),
                            ("per category", per_category), ("rejects per reason", rejects)):
            print(title)
            for row in rows:
                print(f"  {row['_id']!s:40} {row['n']:>7}")
    return outcome.OK


def run_rejects(args: argparse.Namespace) -> int:
    query: dict[str, Any] = {"reason": args.reason} if args.reason else {}
    with archive() as store:
        found = list(store.db.rejects.find({**query, "requeued_at": {"$exists": False}})
                     .sort("time", -1).limit(args.limit))
        if args.action == "list":
            for reject in found:
                print(f"{_iso(reject.get('time'))}  {reject.get('spider', ''):7} {reject.get('reason', ''):24} "
                      f"{reject.get('url') or ''}  {str(reject.get('detail') or '')[:80]}")
            print(f"{len(found)} reject(s)")
            return outcome.OK
        plans = _requeue_plans(found)
        status = outcome.OK
        for spider, arguments, ids in plans:
            print(f"re-queueing {len(ids)} reject(s) with: finews crawl {spider} {' '.join(arguments)}")
            code = subprocess.run([sys.executable, "-m", "finews.cli", "crawl", spider, *arguments],
                                  check=False).returncode
            status = status or code
            store.db.rejects.update_many({"_id": {"$in": ids}},
                                         {"$set": {"requeued_at": datetime.now(UTC), "requeue_exit": code}})
        if not plans:
            print("nothing to re-queue")
        return status


def _requeue_plans(rejects: list[dict[str, Any]]) -> list[tuple[str, list[str], list[Any]]]:
    """Which crawl runs each reject's input again: share pages by code, sources and post pages by URL."""
    codes: dict[str, Any] = {}
    urls: dict[str, dict[str, Any]] = {"finews": {}, "posts": {}}
    for reject in rejects:
        raw = reject.get("raw") if isinstance(reject.get("raw"), dict) else {}
        if str(reject.get("reason", "")).startswith("share_") and raw.get("info_code"):
            codes[raw["info_code"]] = reject["_id"]
        elif reject.get("url") and reject.get("spider") in urls:
            urls[reject["spider"]][reject["url"]] = reject["_id"]
    plans = []
    folder = Path(tempfile.mkdtemp(prefix="finews-requeue-"))
    if codes:
        plans.append(("share", ["-a", f"codes={','.join(codes)}"], list(codes.values())))
    for spider, found in urls.items():
        if found:
            listing = folder / f"{spider}.txt"
            listing.write_text("\n".join(found), encoding="utf-8")
            plans.append((spider, ["-a", f"urls_file={listing}"], list(found.values())))
    return plans


# -- export -------------------------------------------------------------------------------------


def run_export(args: argparse.Namespace) -> int:
    query: dict[str, Any] = {}
    if args.category:
        query["category"] = args.category
    if args.since or args.until:
        query["published_at"] = {}
        if args.since:
            query["published_at"]["$gte"] = args.since
        if args.until:
            query["published_at"]["$lt"] = args.until + timedelta(days=1)
    if args.format == "markdown" and not args.out:
        raise ArgumentError("finews export: --format markdown needs --out FOLDER")
    count = 0
    with archive() as store:
        cursor = store.articles.find(query, {"revisions": 0}).sort("published_at", 1)
        if args.format == "jsonl":
            out = args.out.open("w", encoding="utf-8") if args.out else sys.stdout
            for doc in cursor:
                out.write(json.dumps(doc, ensure_ascii=False, default=_iso) + "\n")
                count += 1
            if args.out:
                out.close()
        else:
            folder = args.out / "_posts"
            folder.mkdir(parents=True, exist_ok=True)
            for doc in cursor:
                (folder / markdown_name(doc)).write_text(markdown_post(doc), encoding="utf-8")
                count += 1
    print(f"{count} article(s) exported", file=sys.stderr)
    return outcome.OK


def markdown_name(doc: dict[str, Any]) -> str:
    day = doc["published_at"].astimezone(CST).strftime("%Y-%m-%d")
    return f"{day}-{doc['_id']}.md"


def markdown_post(doc: dict[str, Any]) -> str:
    """A Jekyll post of the site's own format: front matter, body HTML, share link."""
    when = doc["published_at"].astimezone(CST).strftime("%Y-%m-%d %H:%M:%S +0800")
    tags = (doc.get("tags") or [f"{doc.get('source') or ''}新闻"])[0]
    title = (doc.get("title") or "").replace('"', "“")
    parts = [f'---\nlayout: post\ntitle: "{title}"\ndate: {when}\ncategories: {doc.get("category") or ""}\n'
             f"tags: {tags}\n---\n"]
    if doc.get("summary"):
        parts.append(f"> {doc['summary']}\n\n")
    parts.append(doc.get("body_html") or "")
    link = doc.get("share_url") or doc.get("origin_url")
    if link:
        parts.append(f"\n\n<{link}>")
    return "".join(parts)


if __name__ == "__main__":
    sys.exit(main())
