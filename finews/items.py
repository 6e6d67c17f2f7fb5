"""The article record every path (post page, post source, share page) produces."""

from __future__ import annotations

from dataclasses import dataclass, field

from finews.parsing import PARSER_VERSION


@dataclass
class Article:
    """One news article; raw as a parser yields it, clean once normalized.

    Parsers fill what the page gives (``published_at`` may still be the raw
    date line, ``body_html`` the raw body); ``finews.normalize`` turns it into
    the stored form, and normalizing that again changes nothing.
    """

    info_code: str | None = None
    aliases: list[str] = field(default_factory=list)
    title: str | None = None
    published_at: str | None = None
    category: str | None = None
    source: str | None = None
    tags: list[str] = field(default_factory=list)
    url: str | None = None
    share_url: str | None = None
    origin_url: str | None = None
    summary: str | None = None
    body_html: str | None = None
    body_text: str | None = None
    stocks: list[dict] = field(default_factory=list)
    linked_stocks: list[dict] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    content_hash: str | None = None
    # Which path produced the record: post_page, post_source, share_api, share_render.
    via: str = "post_page"
    # The post's file/permalink name (the part after the date), a fallback for the info code.
    post_name: str | None = None
    fetched_at: str | None = None
    # Where the input was read: the URL fetched, or a local source's file:// URL (a reject names it; a requeue
    # reads it there again). Not stored in the article.
    fetched_from: str | None = None
    # Post sources: how late this text is, by evidence in the file (PostSource.version); None elsewhere.
    version: int | None = None
    # Share pages: "ok" once the share page's article was read, and when.
    share_status: str | None = None
    share_fetched_at: str | None = None
    # The raw capture the text came from ({file, offset, record_id} in <FINEWS_DATA_DIR>/warc/; None with
    # capture off), and the version of the parsing rules that made the article (finews.parsing.PARSER_VERSION).
    capture: dict | None = None
    parser_version: int = PARSER_VERSION


@dataclass
class ShareFailure:
    """A share page that gave no article: the archived article is marked, for ``share -a missing=1``."""

    info_code: str
    reason: str
    detail: str = ""
    url: str | None = None
