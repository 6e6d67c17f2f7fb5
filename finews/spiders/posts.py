"""Back-fill from post sources: the Markdown-with-HTML files of the site's ``_posts/`` and ``old_post/``.

    scrapy crawl posts -a path=CHECKOUT            # _posts/ and old_post/ of a checkout, or any folder of .md
    scrapy crawl posts -a urls_file=urls.txt       # raw file URLs, one a line
    scrapy crawl posts -a path=… -a since=2022-01-01

Local files go through Scrapy too (``file://`` requests), so the pipelines, stats,
dedupe and storage are those of the site crawl.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

import scrapy
from scrapy.http import Response
from scrapy.responsetypes import responsetypes
from twisted.python.failure import Failure

from finews.dates import utc_now_iso
from finews.parsing.source import SourceError, article_from_source, read_source
from finews.signals import item_rejected

# Scrapy sniffs the body of a file whose type it cannot tell from its name, byte by byte in Python.
responsetypes.mimetypes.add_type("text/markdown", ".md")
_DATED = re.compile(r"^(\d{4}-\d{2}-\d{2})-")
SOURCE_FOLDERS = ("_posts", "old_post")


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


def older_than(name: str, since: str | None) -> bool:
    match = _DATED.match(name)
    return bool(since and match and match.group(1) < since)


class PostsSpider(scrapy.Spider):
    name = "posts"
    # Local files and a CDN of raw files: no throttling to adapt, no robots.txt to read.
    custom_settings: ClassVar[dict[str, Any]] = {
        "AUTOTHROTTLE_ENABLED": False, "ROBOTSTXT_OBEY": False, "CONCURRENT_REQUESTS": 32,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 32,
    }

    def __init__(self, path: str | None = None, urls_file: str | None = None, since: str | None = None,
                 base_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run_arguments = {k: v for k, v in {"path": path, "urls_file": urls_file, "since": since,
                                                "base_url": base_url, **kwargs}.items() if v is not None}
        if not path and not urls_file:
            raise ValueError("give -a path=DIR or -a urls_file=FILE")
        if since and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", since):
            raise ValueError(f"since must be YYYY-MM-DD, not {since!r}")
        self.path, self.urls_file, self.since = path, urls_file, since
        self.progress_total: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> PostsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.site_url = spider.run_arguments.get("base_url") or crawler.settings.get("FINEWS_BASE_URL")
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self.source_requests():
            yield request

    def source_requests(self) -> Iterator[scrapy.Request]:
        self.progress_total = sum(1 for _ in self._urls())
        # Distributed, every worker walks the files and the shared fingerprints give each to one worker;
        # alone, no fingerprints are needed (each file is listed once) and none are kept in memory.
        shared = bool(self.crawler.settings.get("FINEWS_REDIS_URL"))
        skipped = 0
        for url in self._urls(count_skipped=True):
            if url is None:
                skipped += 1
                continue
            yield scrapy.Request(url, callback=self.parse_source, errback=self.on_error, dont_filter=not shared)
        self.crawler.stats.set_value("finews/posts/skipped_since", skipped)

    def _urls(self, count_skipped: bool = False) -> Iterator[str | None]:
        """The URLs to read, one at a time (None for a file skipped by `since`, when counting those)."""
        sources: list[Iterator[str]] = []
        if self.path:
            sources.append(Path(path).resolve().as_uri() for path in source_files(Path(self.path)))
        if self.urls_file:
            with Path(self.urls_file).open(encoding="utf-8") as lines:
                sources.append(iter([line.strip() for line in lines if line.strip() and not line.startswith("#")]))
        for source in sources:
            for url in source:
                if not older_than(_file_name(url), self.since):
                    yield url
                elif count_skipped:
                    yield None

    def parse_source(self, response: Response) -> Iterator[Any]:
        self.crawler.stats.inc_value("finews/posts/files")
        try:
            source = read_source(response.body, _repo_path(response.url))
        except SourceError as exc:
            self._reject(exc.reason, exc.detail, response.url, response.body.decode("utf-8", "replace"))
            return
        if source.problems:
            self.crawler.stats.inc_value("finews/posts/repaired")
            for problem in source.problems:
                self.crawler.stats.inc_value(f"finews/posts/problem/{problem.split(':')[0]}")
        article = article_from_source(source, self.site_url)
        article.fetched_at = utc_now_iso()
        yield article

    def on_error(self, failure: Failure) -> None:
        self.crawler.stats.inc_value("finews/posts/files")
        self._reject("read_failed", f"{failure.type.__name__}: {failure.getErrorMessage()}", failure.request.url, None)

    def _reject(self, reason: str, detail: str, url: str, raw: Any) -> None:
        self.crawler.signals.send_catch_log(signal=item_rejected, reason=reason, detail=detail, url=url, raw=raw,
                                            spider=self)


def _file_name(url: str) -> str:
    return PurePosixPath(unquote(urlsplit(url).path)).name


def _repo_path(url: str) -> str:
    """``_posts/<name>`` or ``old_post/<name>`` when the file sits in such a folder, else its name."""
    path = PurePosixPath(unquote(urlsplit(url).path))
    return f"{path.parent.name}/{path.name}" if path.parent.name in SOURCE_FOLDERS else path.name
