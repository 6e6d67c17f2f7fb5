"""Back-fill from post sources: the Markdown-with-HTML files of the site's ``_posts/`` and ``old_post/``.

    scrapy crawl posts -a path=CHECKOUT            # _posts/ and old_post/ of a checkout, or any folder of .md
    scrapy crawl posts -a urls_file=urls.txt       # raw file URLs, one a line
    scrapy crawl posts -a path=… -a since=2022-01-01

Local files go through Scrapy too (``file://`` requests), so the pipelines, stats,
dedupe and storage are those of the site crawl.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from finews.dates import utc_now_iso
from finews.parsing.source import SourceError, article_from_source, read_source
from finews.signals import item_rejected

_DATED = re.compile(r"^(\d{4}-\d{2}-\d{2})-")
SOURCE_FOLDERS = ("_posts", "old_post")


def source_files(root: Path) -> list[Path]:
    """The post files of a checkout (its _posts/ and old_post/), or every .md under a plain folder."""
    folders = [root / name for name in SOURCE_FOLDERS if (root / name).is_dir()]
    files = [f for folder in folders or [root] for f in folder.rglob("*.md")]
    return sorted(files, key=lambda p: (p.name, str(p)))


def older_than(name: str, since: str | None) -> bool:
    match = _DATED.match(name)
    return bool(since and match and match.group(1) < since)


class PostsSpider(scrapy.Spider):
    name = "posts"
    # Local files and a CDN of raw files: no throttling to adapt, no robots.txt to read.
    custom_settings = {"AUTOTHROTTLE_ENABLED": False, "ROBOTSTXT_OBEY": False, "CONCURRENT_REQUESTS": 32,
                       "CONCURRENT_REQUESTS_PER_DOMAIN": 32}

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
        urls: list[str] = []
        if self.path:
            urls += [f.resolve().as_uri() for f in source_files(Path(self.path))]
        if self.urls_file:
            urls += [line.strip() for line in Path(self.urls_file).read_text(encoding="utf-8").splitlines()
                     if line.strip() and not line.startswith("#")]
        wanted = [u for u in urls if not older_than(_file_name(u), self.since)]
        self.crawler.stats.set_value("finews/posts/skipped_since", len(urls) - len(wanted))
        self.progress_total = len(wanted)
        for url in wanted:
            yield scrapy.Request(url, callback=self.parse_source, errback=self.on_error, dont_filter=True)

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
