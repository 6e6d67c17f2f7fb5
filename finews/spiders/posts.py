"""Back-fill from post sources: the Markdown-with-HTML files of the site's ``_posts/`` and ``old_post/``.

    scrapy crawl posts -a path=CHECKOUT            # _posts/ and old_post/ of a checkout, or any folder of .md
    scrapy crawl posts -a urls_file=urls.txt       # raw file URLs, one a line
    scrapy crawl posts -a path=… -a since=2022-01-01

Local files are read by the spider itself and their articles come out of ``start()``
(Scrapy >= 2.13 takes items there): a ``file://`` request per file cost more than
parsing the file. Raw URLs, and every file in a distributed run (where the shared
fingerprints give each file to one worker), go through the downloader. Either way the
pipelines, stats, dedupe and storage are those of the site crawl.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import scrapy
from scrapy import signals
from scrapy.http import Response
from scrapy.responsetypes import responsetypes
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from finews.arguments import Argument, ArgumentProblem, parse_arguments
from finews.dates import utc_now_iso
from finews.items import Article
from finews.middlewares.capture import captured
from finews.monitors import INPUTS
from finews.parsing.source import SOURCE_FOLDERS, SourceError, article_from_source, read_source
from finews.signals import item_rejected, source_read
from finews.spiders.compat import Spider

# Scrapy sniffs the body of a file whose type it cannot tell from its name, byte by byte in Python.
responsetypes.mimetypes.add_type("text/markdown", ".md")
_DATED = re.compile(r"^(\d{4}-\d{2}-\d{2})-")


def source_files(root: Path) -> Iterator[str]:
    """Paths of the post files of a checkout (its _posts/ and old_post/), or of every .md under a folder.

    Walked lazily and in no particular order (which copy of a post is the later one is decided
    by evidence in the files, not by order): memory stays flat however many files there are.
    """
    folders = [root / name for name in SOURCE_FOLDERS if (root / name).is_dir()] or [root]
    for folder in folders:
        for directory, _, names in os.walk(folder):
            for name in names:
                if name.endswith(".md"):
                    yield os.path.join(directory, name)


class Unreadable(Exception):
    """A file of the import folder that is not read: why, for its reject."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


_KINDS = {stat.S_IFIFO: "FIFO", stat.S_IFCHR: "character device", stat.S_IFBLK: "block device",
          stat.S_IFSOCK: "socket", stat.S_IFDIR: "directory"}


def checked(path: str, root: str, status: os.stat_result, max_bytes: int, *, link: bool = True) -> None:
    """Raise Unreadable unless ``path`` (``status``: a stat of what it leads to) is a regular file of at most
    ``max_bytes`` inside the folder ``root`` (a real path): a FIFO blocks a read for ever, /dev/zero never
    ends, and a link out of the folder would put any file of the machine into the archive or its rejects.
    ``link=False``: ``path`` is no symbolic link (the walk follows none into subfolders), so it is inside."""
    if link:
        real = os.path.realpath(path)
        if os.path.commonpath([real, root]) != root:
            raise Unreadable("outside_folder", f"{path} leads to {real}, outside the import folder {root}")
    if not stat.S_ISREG(status.st_mode):
        raise Unreadable("not_a_file", f"{path} is a {_KINDS.get(stat.S_IFMT(status.st_mode), 'special file')}")
    if status.st_size > max_bytes:
        raise Unreadable("file_too_large", f"{path}: {status.st_size} bytes, over FINEWS_MAX_SOURCE_BYTES "
                                           f"({max_bytes})")


def read_file(path: str, root: str, max_bytes: int) -> bytes:
    """The bytes of a post file, if ``checked`` lets it be read. Opened without blocking (a FIFO opens at once)
    and without following a link; the open file is checked, so what is read is what was checked. A link is
    checked, by what it leads to, before it is opened. As many system calls as a plain ``open().read()`` for
    an ordinary file (a stat before the open cost 3% of an import). Raises Unreadable, or OSError."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        descriptor = os.open(path, flags | os.O_NOFOLLOW)
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        checked(path, root, os.stat(path), max_bytes)  # a link: inside the folder, to a regular file?
        descriptor = os.open(path, flags)
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode) or status.st_size > max_bytes:
            checked(path, root, status, max_bytes, link=False)  # raises: it says why
        data = os.read(descriptor, status.st_size + 1)  # the whole file at once, as a plain read does
        while status.st_size < len(data) <= max_bytes and (more := os.read(descriptor, max_bytes + 1 - len(data))):
            data += more  # it grew since the stat
    finally:
        os.close(descriptor)
    if len(data) > max_bytes:
        raise Unreadable("file_too_large", f"{path}: grew over FINEWS_MAX_SOURCE_BYTES ({max_bytes}) while read")
    return data


def older_than(name: str, since: str | None) -> bool:
    match = _DATED.match(name)
    return bool(since and match and match.group(1) < since)


class PostsSpider(Spider):
    name = "posts"
    # Local files and a CDN of raw files: no throttling to adapt, no robots.txt to read.
    # CONCURRENT_ITEMS: how many articles start() lets wait in the pipelines (see _wait_for_room).
    custom_settings: ClassVar[dict[str, Any]] = {
        "AUTOTHROTTLE_ENABLED": False, "ROBOTSTXT_OBEY": False, "CONCURRENT_REQUESTS": 32,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 32, "CONCURRENT_ITEMS": 16,
    }

    arguments: ClassVar[dict[str, Argument]] = {
        "path": Argument("path", "a checkout of the site (its _posts/ and old_post/) or a folder of .md files"),
        "urls_file": Argument("file", "raw post file URLs, one a line"),
        "since": Argument("date", "only files named from this day on (YYYY-MM-DD)"),
        "base_url": Argument("url", "the site the posts belong to (default FINEWS_BASE_URL)"),
    }

    def __init__(self, **kwargs: Any) -> None:
        self.run_arguments = parse_arguments(self.name, self.arguments, kwargs)
        super().__init__()
        given = self.run_arguments
        if not given.get("path") and not given.get("urls_file"):
            raise ArgumentProblem("spider 'posts': give -a path=DIR or -a urls_file=FILE")
        self.path, self.urls_file, self.since = given.get("path"), given.get("urls_file"), given.get("since")
        self.progress_total: int | None = None

    run_kind = "import"

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> PostsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.site_url = spider.run_arguments.get("base_url") or crawler.settings.get("FINEWS_BASE_URL")
        spider.in_pipelines = 0
        spider.room = spider.limit = crawler.settings.getint("CONCURRENT_ITEMS")
        spider.max_bytes = crawler.settings.getint("FINEWS_MAX_SOURCE_BYTES")
        spider.root = os.path.realpath(spider.path) if spider.path else ""
        spider.room_made: Deferred | None = None
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(spider._item_done, signal=signal)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request | Article]:
        self.progress_total = sum(1 for _ in self._entries())
        self.crawler.stats.set_value(INPUTS, self.progress_total)
        # Distributed, every worker walks the files and the shared fingerprints give each to one worker;
        # alone, no fingerprints are needed (each file is listed once) and none are kept in memory.
        shared = bool(self.crawler.settings.get("FINEWS_REDIS_URL"))
        skipped = 0
        for entry in self._entries(count_skipped=True):
            if entry is None:
                skipped += 1
            elif entry.path is not None and not shared:
                await self._wait_for_room()
                if (article := self._read_file(entry.path)) is not None:
                    self.in_pipelines += 1
                    yield article
            elif entry.path is None or self._fetchable(entry.path):
                yield scrapy.Request(entry.url, callback=self.parse_source, errback=self.on_error,
                                     dont_filter=not shared)
        self.crawler.stats.set_value("finews/posts/skipped_since", skipped)
        # Scrapy looks for an idle spider when start() ends, and after that only at its engine's heartbeat
        # (every 5 s): return once the articles read here have left the pipelines, so the run ends then.
        await self._fewer_in_pipelines_than(1)

    def _entries(self, count_skipped: bool = False) -> Iterator[_Entry | None]:
        """The files and URLs to read, one at a time (None for a file skipped by `since`, when counting those)."""
        sources: list[Iterator[_Entry]] = []
        if self.path:
            sources.append(_Entry(path=path) for path in source_files(Path(self.path)))
        if self.urls_file:
            with Path(self.urls_file).open(encoding="utf-8") as lines:
                urls = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
            # A local file named by URL (a requeued reject) is read as the import reads it, not downloaded.
            sources.append(_Entry(path=url2pathname(urlsplit(url).path)) if url.startswith("file:")
                           else _Entry(given_url=url) for url in urls)
        for source in sources:
            for entry in source:
                if not older_than(entry.name, self.since):
                    yield entry
                elif count_skipped:
                    yield None

    async def _wait_for_room(self) -> None:
        """Backpressure for items from start(): the engine does not wait for their pipelines (a slow store).

        At most ``CONCURRENT_ITEMS`` articles read here are in the pipelines at once; the
        item_scraped/item_dropped/item_error signals say when one leaves them.
        """
        if self.in_pipelines >= self.room:
            self.crawler.stats.inc_value("finews/posts/waited_for_pipelines")
            await self._fewer_in_pipelines_than(self.room)

    async def _fewer_in_pipelines_than(self, limit: int) -> None:
        if self.in_pipelines < limit:
            return
        self.limit = limit
        self.room_made = Deferred()
        await maybe_deferred_to_future(self.room_made)

    def _item_done(self) -> None:
        """Every item of this spider is an article it yielded and counted."""
        self.in_pipelines -= 1
        if self.room_made is not None and self.in_pipelines < self.limit:
            waiting, self.room_made = self.room_made, None
            waiting.callback(None)

    def _read_file(self, path: str) -> Article | None:
        try:
            data = read_file(path, self._root(path), self.max_bytes)
        except Unreadable as exc:
            return self._not_read(path, exc.reason, exc.detail)
        except OSError as exc:
            return self._not_read(path, "read_failed", f"{type(exc).__name__}: {exc}")
        self.crawler.stats.inc_value("finews/posts/files_read")
        # No request, so no response to capture: the capture keeps the file as a resource record.
        kept = self.crawler.signals.send_catch_log(source_read, uri=_file_uri(path), data=data, spider=self)
        article = self._article(data, _repo_path(path), path)
        if article is not None:
            article.capture = next((pointer for _, pointer in kept if isinstance(pointer, dict)), None)
        return article

    def _root(self, path: str) -> str:
        """The folder a file must lie in: the import's, or for a file listed alone (urls_file) its own."""
        return self.root or os.path.realpath(os.path.dirname(os.path.abspath(path)))

    def _fetchable(self, path: str) -> bool:
        """A file a distributed run hands to the downloader as file://: checked as a local read checks it."""
        try:
            checked(path, self._root(path), os.stat(path), self.max_bytes)
        except Unreadable as exc:
            self._not_read(path, exc.reason, exc.detail)
            return False
        except OSError:
            return True  # the request's errback says what went wrong
        return True

    def _not_read(self, path: str, reason: str, detail: str) -> None:
        """A local file that gives no article: counted among the files, and a reject naming it."""
        self.crawler.stats.inc_value("finews/posts/files")
        self._reject(reason, detail, _file_uri(path), None)

    def parse_source(self, response: Response) -> Iterator[Any]:
        article = self._article(response.body, _repo_path(unquote(urlsplit(response.url).path)), response.url)
        if article is not None:
            article.capture = captured(response)
            self.in_pipelines += 1
            yield article

    def _article(self, data: bytes, repo_path: str, where: str) -> Article | None:
        self.crawler.stats.inc_value("finews/posts/files")
        try:
            source = read_source(data, repo_path)
        except SourceError as exc:
            url = where if "://" in where else _file_uri(where)
            self._reject(exc.reason, exc.detail, url, data.decode("utf-8", "replace"))
            return None
        if source.problems:
            self.crawler.stats.inc_value("finews/posts/repaired")
            for problem in source.problems:
                self.crawler.stats.inc_value(f"finews/posts/problem/{problem.split(':')[0]}")
        article = article_from_source(source, self.site_url)
        article.fetched_at = utc_now_iso()
        article.fetched_from = where if "://" in where else _file_uri(where)
        return article

    def on_error(self, failure: Failure) -> None:
        self.crawler.stats.inc_value("finews/posts/files")
        self._reject("read_failed", f"{failure.type.__name__}: {failure.getErrorMessage()}", failure.request.url, None)

    def _reject(self, reason: str, detail: str, url: str, raw: Any) -> None:
        self.crawler.signals.send_catch_log(signal=item_rejected, reason=reason, detail=detail, url=url, raw=raw,
                                            spider=self)


@dataclass(frozen=True)
class _Entry:
    """A local file (read by the spider, or as a file:// request when distributed) or a raw URL."""

    path: str | None = None
    given_url: str | None = None

    @property
    def url(self) -> str:
        return self.given_url or _file_uri(self.path or "")

    @property
    def name(self) -> str:
        return os.path.basename(self.path) if self.path else PurePosixPath(unquote(urlsplit(self.url).path)).name


def _file_uri(path: str) -> str:
    """The file:// URL of a path as given (relative ones too: -a path=tests/fixtures/posts); a link is named
    as itself, not as what it leads to."""
    return Path(os.path.abspath(path)).as_uri()


def _repo_path(path: str) -> str:
    """``_posts/<name>`` or ``old_post/<name>`` when the file sits in such a folder, else its name."""
    folder, name = os.path.split(path)
    parent = os.path.basename(folder)
    return f"{parent}/{name}" if parent in SOURCE_FOLDERS else name
