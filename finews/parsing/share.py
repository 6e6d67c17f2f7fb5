"""The share page's article: from its JSON endpoint, or from the page as Splash rendered it.

``…/html_News/NewsShare.html?infoCode=X`` is an empty shell its script fills
from ``…/NewsData/GetNewsText.do?id=X``: ``{"success": true, "data": {"id",
"title", "showTime", "mediaName", "text" | "content"}}``, the text an HTML
fragment of ``<br>``-separated, full-width-indented paragraphs.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import lxml.etree
import lxml.html

from finews.codes import canonical_info_code
from finews.items import Article
from finews.parsing.body import clean_inline

_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
SHARE_PATH = "html_News/NewsShare.html"
API_PATH = "NewsData/GetNewsText.do"


class ShareError(ValueError):
    """The share source did not give the article; ``reason`` is a stat-friendly code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def share_page_url(base: str, code: str) -> str:
    return f"{base.rstrip('/')}/{SHARE_PATH}?infoCode={quote(code)}"


def api_url(base: str, code: str) -> str:
    return f"{base.rstrip('/')}/{API_PATH}?id={quote(code)}"


def text_to_html(text: str) -> str:
    """The endpoint's ``<br>``-separated text as paragraphs (entities and inline markup kept for sanitizing)."""
    return "".join(f"<p>{part}</p>" for part in _BREAK.split(text) if part.strip())


def parse_share_json(body: bytes | str, code: str) -> Article:
    """The raw article of an API answer for ``code``; ShareError when the answer is not one."""
    try:
        answer = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ShareError("api_invalid_json", str(exc)[:200]) from exc
    if not isinstance(answer, dict):
        raise ShareError("api_invalid_json", "not an object")
    data = answer.get("data")
    if not answer.get("success") or not isinstance(data, dict):
        raise ShareError("api_no_article", str(answer.get("message") or answer.get("code") or "no data")[:200])
    answered = canonical_info_code(str(data.get("id") or ""))
    if answered != canonical_info_code(code):
        raise ShareError("api_wrong_id", f"asked {code}, got {data.get('id')!r}")
    text = data.get("text") or data.get("content")
    if not isinstance(text, str) or not clean_inline(_BREAK.sub(" ", text)):
        raise ShareError("api_empty_text", "neither text nor content")
    return Article(
        info_code=answered,
        title=data.get("title") or None,
        published_at=data.get("showTime") or None,
        source=data.get("mediaName") or None,
        body_html=text_to_html(text),
        via="share_api",
    )


def parse_share_page(html: str | bytes, code: str) -> Article:
    """The raw article of a rendered share page (the DOM the page's script filled)."""
    try:
        doc = lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise ShareError("render_unparseable", str(exc)) from exc
    body = doc.get_element_by_id("ContentBody", None)
    if body is None:
        raise ShareError("render_no_article", "no #ContentBody")
    inner = (body.text or "") + "".join(lxml.html.tostring(c, encoding="unicode") for c in body)
    if not clean_inline(body.text_content()):
        raise ShareError("render_no_article", "#ContentBody stayed empty")

    def text_of(element_id: str) -> str | None:
        element = doc.get_element_by_id(element_id, None)
        return clean_inline(element.text_content()) or None if element is not None else None

    return Article(
        info_code=canonical_info_code(code),
        title=text_of("newsTitle"),
        published_at=text_of("newsTime"),
        source=text_of("newsSource"),
        body_html=text_to_html(inner),
        via="share_render",
    )
