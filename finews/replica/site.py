"""The replica's content: posts read from source files, and every page the site serves.

Mirrors what Jekyll makes of the repository (SITE.md, and a real Jekyll
build): files in ``_posts/`` with a dated name are posts at their permalinks;
a file of ``old_post/`` is published as a post too unless ``_posts/`` has a
file of the same name (the replica shows the site while the post was live). Files Jekyll would not
publish (no date in the name) are listed in ``skipped``.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import unquote

from finews.codes import canonical_info_code
from finews.dates import parse_post_date
from finews.items import Article
from finews.normalize import normalize_article
from finews.parsing.source import PostSource, SourceError, article_from_source, read_source, render_markdown
from finews.parsing.urls import quote_path
from finews.replica import layouts

logger = logging.getLogger(__name__)

HOME_LIMIT = 100
FEED_LIMIT = 10
_FOLDER_RANK = {"_posts": 0, "old_post": 1}


@dataclass
class Page:
    status: int
    content_type: str
    body: bytes
    etag: str


@dataclass
class ReplicaPost:
    source: PostSource
    folder: str
    path: str  # permalink, percent-encoded

    @property
    def date(self) -> str:
        """The date the site shows (see ``PostSource.site_date``)."""
        return self.source.site_date or ""

    @property
    def title(self) -> str:
        """Jekyll titles a post it sees no front matter in after its file name."""
        return self.source.title if self.source.front_matter_at_start else self.source.name

    @property
    def category(self) -> str:
        return self.source.category if self.source.front_matter_at_start else ""

    @property
    def code(self) -> str | None:
        return canonical_info_code(self.source.name)


class Site:
    def __init__(self, posts_dir: str | Path, *, layout: str = "new", site_url: str = layouts.LIVE_URL) -> None:
        self.posts_dir = Path(posts_dir)
        self.layout = layout
        self.site_url = site_url.rstrip("/")
        self._lock = threading.Lock()
        self.reload()

    def reload(self) -> None:
        """Read the sources again (tests edit and add posts between crawls)."""
        posts: dict[str, ReplicaPost] = {}
        skipped: list[tuple[str, str]] = []
        names: set[str] = set()
        files = sorted(self.posts_dir.rglob("*.md"), key=lambda p: (_FOLDER_RANK.get(p.parent.name, 2), str(p)))
        for file in files:
            try:
                source = read_source(file.read_bytes(), str(file.relative_to(self.posts_dir)))
            except SourceError as exc:
                skipped.append((str(file), str(exc)))
                continue
            link = source.permalink()
            if source.file_date is None or link is None:
                skipped.append((str(file), "not a post for Jekyll (no date in the file name)"))
                continue
            if source.front_matter_at_start and parse_post_date(str(source.front.get("date") or "")) is None \
                    and source.front.get("date") is not None:
                skipped.append((str(file), "Jekyll stops on an invalid date in the front matter"))
                continue
            if file.name not in names:
                names.add(file.name)
                posts.setdefault(link, ReplicaPost(source, file.parent.name, link))
        ordered = sorted(posts.values(), key=lambda p: (p.date, p.path), reverse=True)
        categories: dict[str, list[ReplicaPost]] = {}
        for post in ordered:
            for name in post.category.split():
                categories.setdefault(name, []).append(post)
        category_pages = {p.category for p in ordered if p.category}
        category_pages |= {f.stem for f in (self.posts_dir / "category").glob("*.html")}
        with self._lock:
            self.posts = ordered
            self.by_path = {unquote(p.path): p for p in ordered}
            self.by_code = {p.code: p for p in reversed(ordered) if p.code}
            self.categories = categories
            self.category_pages = sorted(category_pages)
            self.skipped = skipped
            self.built_at = datetime.now(UTC).replace(microsecond=0)
            self._cache: dict[str, Page] = {}
        for path, why in skipped:
            logger.debug("replica skips %s: %s", path, why)

    @property
    def last_modified(self) -> str:
        return format_datetime(self.built_at, usegmt=True)

    def page(self, path: str) -> Page:
        """The page at a (decoded) URL path; the 404 page when there is none."""
        with self._lock:
            cached = self._cache.get(path)
        if cached is not None:
            return cached
        page = self._build(path)
        with self._lock:
            self._cache[path] = page
        return page

    def article(self, code: str) -> Article | None:
        """The normalized article behind an info code (what the share endpoint answers with)."""
        post = self.by_code.get(canonical_info_code(code) or "")
        if post is None:
            return None
        return normalize_article(article_from_source(post.source, self.site_url))

    def api_answer(self, code: str) -> dict | None:
        """The JSON of ``/NewsData/GetNewsText.do?id=<code>``, in the shape the site's generator reads
        (finews/parsing/share.py): the article text, <br>-separated and indented, as a top-level
        ``text`` or ``content`` and nothing else."""
        article = self.article(code)
        if article is None:
            return None
        paragraphs = [p for p in (article.body_text or "").split("\n\n") if p]
        if len(paragraphs) == 1:
            # A digest-only post: the original article (which the replica does not have) is longer.
            paragraphs += [f"{article.title}。{paragraphs[0]}", "（本文为东方财富网全文，转载请注明出处。）"]
        text = "<br>".join("\u3000\u3000" + html.escape(p, quote=False) for p in paragraphs)
        # Media posts' share host answers `text`, the emnews host `content`: one key for each half of the codes.
        key = "text" if int(article.info_code[-1]) % 2 == 0 else "content"
        return {key: text}

    def _build(self, path: str) -> Page:
        if path in ("/", "/index.html"):
            links = [(p.path, p.title) for p in self.posts[:HOME_LIMIT]]
            return self._html(200, "首页", layouts.index_content(links), path)
        if path == "/feed.xml":
            return _page(200, "application/atom+xml; charset=utf-8", self._feed())
        if path.startswith("/category/") and path.endswith(".html"):
            slug = path[len("/category/"):-len(".html")]
            if slug in self.category_pages:
                links = [(p.path, p.title) for p in self.categories.get(slug, [])]
                return self._html(200, slug.title(), layouts.category_content(links), path)
        if path.lower() == "/html_news/newsshare.html":
            return _page(200, "text/html; charset=utf-8", layouts.SHARE_SHELL)
        post = self.by_path.get(path)
        if post is not None:
            return self._post_page(post, path)
        return self._html(404, "404", layouts.NOT_FOUND_CONTENT, path)

    def _post_page(self, post: ReplicaPost, path: str) -> Page:
        source = post.source
        if not source.front_matter_at_start:
            # Jekyll saw no front matter: the whole file is Markdown, rendered with no layout.
            return _page(200, "text/html; charset=utf-8", render_markdown(source.raw_text))
        body = render_markdown(source.body)
        date_line = post.date[:19].replace("T", " ")
        content = layouts.post_layout(date_line, source.front.get("title", ""), body, source.tags)
        return self._html(200, post.title, content, path, description=body)

    def _html(self, status: int, title: str, content: str, path: str, description: str = "") -> Page:
        text = layouts.default_layout(title, content, quote_path(path), version=self.layout, description=description)
        return _page(status, "text/html; charset=utf-8", text)

    def _feed(self) -> str:
        entries = [
            {
                "title": p.title,
                "url": self.site_url + p.path,
                "date": p.date,
                "content": render_markdown(p.source.body),
                "category": p.category,
            }
            for p in self.posts[:FEED_LIMIT]
        ]
        return layouts.atom_feed(self.site_url, self.built_at.isoformat(), entries)


def _page(status: int, content_type: str, text: str) -> Page:
    body = text.encode("utf-8")
    return Page(status, content_type, body, '"' + hashlib.sha1(body).hexdigest()[:20] + '"')


def api_error(code: str) -> bytes:
    return json.dumps(
        {"success": False, "code": 404, "message": f"no article with id {code!r}"},
        ensure_ascii=False,
    ).encode("utf-8")
