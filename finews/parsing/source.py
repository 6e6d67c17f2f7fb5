"""Read a post source (Markdown with raw HTML and YAML front matter, as in ``_posts/``).

The reader is lenient where real files are broken (unescaped quotes in
titles, empty dates, a blank line before the front matter, CRLF, a BOM) and
records each fix in ``problems``; a file it still cannot read raises
``SourceError`` with the reason.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import PurePosixPath

import pyromark
import yaml

from finews.dates import iso_cst, parse_post_date
from finews.items import Article
from finews.parsing.urls import quote_path

_FILE_NAME = re.compile(r"^(?:(?P<date>\d{4}-\d{2}-\d{2})-)?-?(?P<name>.+?)\.(?:md|markdown|html)$")
_FENCE = re.compile(r"^---[ \t]*$")
_HAS_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})\s*$")
_BACK_LINK = re.compile(r"\[返回[^\]]*\]\(([^)]*)\)")
_KEY_VALUE = re.compile(r"^(?P<key>[A-Za-z_][\w-]*)\s*:\s?(?P<value>.*)$")
# A YAML anchor where a node starts (after "key:", "- ", "[" or ","): what an alias bomb needs, what no post has.
_ANCHOR = re.compile(r"(?:^|:[ \t]+|-[ \t]+|[\[{,][ \t]*)&[^\s\[\]{},]+", re.M)
# CommonMark (pulldown-cmark, in Rust), raw HTML passed through: the Markdown the generator wrote.
_MARKDOWN = pyromark.Markdown()
# libyaml's loader when PyYAML has it (the wheels do): the front matter is most of a file's reading time.
_YAML_LOADER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


# The site repository's folders of post sources: a source is named "<folder>/<file>" when it lies in one.
SOURCE_FOLDERS = ("_posts", "old_post")


class SourceError(ValueError):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass
class PostSource:
    filename: str
    front: dict[str, object]
    body: str
    file_date: str | None
    name: str
    problems: list[str] = field(default_factory=list)
    # False when something precedes the opening --- (Jekyll then sees no front matter).
    front_matter_at_start: bool = True
    raw_text: str = ""

    @property
    def title(self) -> str:
        return html.unescape(_text(self.front.get("title")))

    @property
    def category(self) -> str:
        return _text(self.front.get("categories") or self.front.get("category"))

    @property
    def tags(self) -> list[str]:
        tags = self.front.get("tags")
        values = tags if isinstance(tags, list) else [tags] if tags else []
        return [t for t in (_text(v) for v in values) if t]

    @property
    def date(self) -> str | None:
        """ISO 8601 (+08:00) from the front matter, else from the file name (midnight, as Jekyll does)."""
        moment = parse_post_date(_text(self.front.get("date")))
        if moment is None and self.file_date:
            moment = parse_post_date(self.file_date)
        return iso_cst(moment) if moment else None

    @property
    def site_date(self) -> str | None:
        """The date the site shows for this post, which is not always ``date``.

        Jekyll reads front matter with a YAML parser that takes a timestamp
        without offset as UTC, then shows it in Asia/Shanghai: the early posts
        (``date: 2021-12-08 10:46:18``) appear 8 hours late on their pages and in
        their permalinks. A file whose front matter Jekyll does not see (a blank
        line before it) gets the file name's date at midnight, site time.
        """
        if not self.front_matter_at_start:
            return iso_cst(parse_post_date(self.file_date)) if self.file_date else None
        raw = _text(self.front.get("date"))
        moment = parse_post_date(raw)
        if moment is not None and not _HAS_OFFSET.search(raw):
            moment = moment.replace(tzinfo=UTC)
        if moment is None and self.file_date:
            moment = parse_post_date(self.file_date)
        return iso_cst(moment) if moment else None

    @property
    def version(self) -> int:
        """How late this text of the post is, by evidence in the file: higher is later.

        The generator changed over time (SITE.md, and every _posts/old_post pair of the
        corpus): dates gained their ``+0800``, and back links went from none through
        ``../emnews/``, ``./emnews/``, ``//finews.zning.me/…`` to ``//finews.withounder.com/…``
        and then one line joined by ``｜``. The later copy of a post is the one with the
        later generator's marks, whichever file is read first.
        """
        offset = 1 if _HAS_OFFSET.search(_text(self.front.get("date"))) else 0
        hrefs = _BACK_LINK.findall(self.body)
        generation = 0
        if hrefs:
            generation = max(_link_generation(h) for h in hrefs)
            if generation == 4 and "｜[返回" in self.body:
                generation = 5
        return offset * 10 + generation

    def permalink(self) -> str | None:
        """Jekyll's default permalink: space-separated categories become lower-cased path parts."""
        date = self.site_date
        if not date:
            return None
        cats = [c.lower() for c in self.category.split()] if self.front_matter_at_start else []
        year, month, day = date[:10].split("-")
        return quote_path("/" + "/".join([*cats, year, month, day, f"{self.name}.html"]))


def read_source(data: str | bytes, filename: str) -> PostSource:
    """Front matter and Markdown body of one post file."""
    problems: list[str] = []
    text = _decode(data, problems) if isinstance(data, bytes) else data
    if text.startswith("\ufeff"):
        text, _ = text[1:], problems.append("bom")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        problems.append("crlf")
    lines = text.split("\n")
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start:
        problems.append("leading_blank_lines")
    if start >= len(lines) or not _FENCE.match(lines[start]):
        raise SourceError("no_front_matter", "the file does not start with a --- line")
    end = next((i for i in range(start + 1, len(lines)) if _FENCE.match(lines[i])), None)
    if end is None:
        raise SourceError("unclosed_front_matter", "no closing --- line")
    front_text = "\n".join(lines[start + 1:end])
    if "&" in front_text and _ANCHOR.search(front_text):
        # Aliases of anchors are shared, not copied, until something turns them into text: 436 bytes made a
        # title of 522 MB in 7.4 s. Real front matter never defines one.
        raise SourceError("yaml_anchor", "the front matter defines a YAML anchor (&…): not read, its aliases "
                                         "could expand to gigabytes")
    front = _front_matter(front_text, problems)
    match = _FILE_NAME.match(PurePosixPath(filename).name)
    if not match:
        raise SourceError("bad_file_name", PurePosixPath(filename).name)
    if not match["date"]:
        problems.append("no_date_in_file_name")
    if not _text(front.get("date")) or parse_post_date(_text(front.get("date"))) is None:
        problems.append("empty_or_bad_date")
    return PostSource(
        filename=filename, front=front, body="\n".join(lines[end + 1:]),
        file_date=match["date"], name=match["name"], problems=problems, front_matter_at_start=start == 0,
        raw_text=text,
    )


def render_markdown(source: str) -> str:
    """The body as HTML: raw HTML passes through; autolinks, links, quotes and paragraphs as kramdown renders them
    (after normalization; tests/test_jekyll_site.py compares with a real Jekyll build)."""
    return _MARKDOWN.html(source)


def article_from_source(source: PostSource, site_url: str | None = None) -> Article:
    """The raw Article of a post source; ``site_url`` makes ``url`` the post's permalink there."""
    link = source.permalink()
    return Article(
        title=source.title,
        published_at=source.date,
        category=source.category or None,
        tags=source.tags,
        url=(site_url.rstrip("/") + link) if site_url and link else None,
        body_html=render_markdown(source.body),
        post_name=source.name,
        via="post_source",
        version=source.version,
    )


def _link_generation(href: str) -> int:
    if "withounder.com" in href:
        return 4
    if "zning.me" in href:
        return 3
    if href.startswith("./"):
        return 2
    if href.startswith("../"):
        return 1
    return 0


def _decode(data: bytes, problems: list[str]) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise SourceError("bad_encoding", f"neither UTF-8 nor GB18030: {exc}") from exc
    problems.append("gb18030")
    return text


def _front_matter(text: str, problems: list[str]) -> dict[str, object]:
    try:
        data = yaml.load(text, Loader=_YAML_LOADER)  # every scalar a string: dates are ours to read
        if isinstance(data, dict):
            return data
        problems.append("front_matter_not_a_mapping")
    except yaml.YAMLError as exc:
        problems.append(f"yaml_error: {str(exc).splitlines()[0]}")
    return _loose_front_matter(text)


def _loose_front_matter(text: str) -> dict[str, object]:
    """``key: value`` lines, for front matter YAML rejects (``title: "say "hi""``)."""
    front: dict[str, object] = {}
    for line in text.split("\n"):
        match = _KEY_VALUE.match(line)
        if not match:
            continue
        value = match["value"].strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1].replace('\\"', '"') if value[0] == '"' else value[1:-1].replace("''", "'")
        front[match["key"]] = value
    return front


def _text(value: object) -> str:
    return str(value).strip() if value is not None else ""
