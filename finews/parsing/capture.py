"""An article from a raw capture, as the path that first read it read it (``finews reparse``)."""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from finews.items import Article
from finews.parsing.post_page import parse_post_page
from finews.parsing.share import ShareError, parse_share_json, parse_share_page
from finews.parsing.source import SOURCE_FOLDERS, article_from_source, read_source


class NotAnArticleCapture(ValueError):
    """A capture no path makes an article from (a listing, a failed answer)."""


def article_from_capture(via: str, uri: str, body: bytes, current: dict[str, Any], site_url: str) -> Article:
    """The raw article ``via`` makes of a capture; ``current`` is the archived article (what a share answer
    does not carry: its title, date and share link). Raises ValueError (NotAPostPage, SourceError,
    ShareError, NotAnArticleCapture) for a capture that gives none with today's rules."""
    code = current["_id"]
    if via == "post_page":
        return parse_post_page(body, uri, current.get("category")).article
    if via == "post_source":
        return article_from_source(read_source(body, source_name(uri)), site_url)
    if via == "share_api":
        article = parse_share_json(body, code)
    elif via == "share_render":
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise ShareError("render_no_article", f"not Splash's JSON: {exc}") from None
        if not isinstance(data, dict) or not data.get("ok"):
            raise ShareError("render_no_article", "the render found no article")
        article = parse_share_page(data.get("html") or "", code)
    else:
        raise NotAnArticleCapture(f"no path {via!r}")
    article.title = article.title or current.get("title")
    if not article.published_at and current.get("published_at"):
        article.published_at = current["published_at"].isoformat()
    article.share_url = current.get("share_url")
    article.share_status = "ok"
    return article


def source_name(uri: str) -> str:
    """``_posts/<name>`` or ``old_post/<name>`` of a post source's file:// URL, as the posts spider names it."""
    path = PurePosixPath(unquote(urlsplit(uri).path))
    return f"{path.parent.name}/{path.name}" if path.parent.name in SOURCE_FOLDERS else path.name
