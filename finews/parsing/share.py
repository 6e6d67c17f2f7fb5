"""The share page's article: from its JSON endpoint, or from the page as Splash rendered it.

``…/html_News/NewsShare.html?infoCode=X`` is an empty shell its script fills
from ``…/NewsData/GetNewsText.do?id=X``. What that endpoint answers is known from
its one real client, the site's own generator scripts (public repository
zning1994/finews, run by its GitHub Actions every few minutes): a JSON object whose
top-level ``text`` (media posts, through finews.zning.xyz:
``json.loads(get_url(".../NewsData/GetNewsText.do?id=" + infoCode))['text']``) or
``content`` (emnews posts, through choicewzp1.eastmoney.com and, in one version,
finews.zning.xyz: ``...['content']``) is the article, an HTML fragment of
``<br>``-separated, full-width-indented paragraphs. No evidence shows any other
field, nor an envelope around these two: the shape finews read before
(``{"success": true, "data": {...}}``) was the replica's invention, and is gone.
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
    """The endpoint's ``<br>``-separated text as paragraphs (entities and inline markup kept for sanitizing),
    without the full-width indentation, which the generator removed from the posts too (``.replace("　　", "")``)."""
    return "".join(f"<p>{part}</p>" for part in (p.strip() for p in _BREAK.split(text)) if part)


# Read only when an answer carries them (no evidence shows they ever do: the generator reads text or
# content alone, and the post page gives title, date and media name); an answer's own id that names
# another article is refused.
_OPTIONAL = {"title": "title", "published_at": "showTime", "source": "mediaName"}


def parse_share_json(body: bytes | str, code: str) -> Article:
    """The raw article of an API answer for ``code``; ShareError, with the reason, when the answer is not one.

    With no id in the answer, what tells a wrong or empty answer from an article is its shape: an
    HTML page served as 200 (``api_html_page``), JSON that does not parse (``api_invalid_json``),
    JSON ``null`` or another non-object (``api_not_an_object``), an object without a string
    ``text`` or ``content`` (an error object: ``api_no_article``, with its message), and a text
    with nothing but breaks and indentation (``api_empty_text``).
    """
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if body.lstrip()[:1] == "<":
        try:
            said = clean_inline(lxml.html.fromstring(body).text_content())
        except (lxml.etree.ParserError, ValueError):
            said = ""
        raise ShareError("api_html_page", said[:200] or "an HTML page")
    try:
        answer = json.loads(body)
    except ValueError as exc:
        raise ShareError("api_invalid_json", str(exc)[:200]) from exc
    if not isinstance(answer, dict):
        raise ShareError("api_not_an_object", f"JSON {type(answer).__name__}: {body[:100]!r}")
    text = answer.get("text") or answer.get("content")
    if not isinstance(text, str):
        why = answer.get("message") or answer.get("error") or answer.get("code") or f"fields: {sorted(answer)}"
        raise ShareError("api_no_article", str(why)[:200])
    if not clean_inline(_BREAK.sub(" ", text)):
        raise ShareError("api_empty_text", "text holds no words")
    if answer.get("id") is not None and canonical_info_code(str(answer["id"])) != canonical_info_code(code):
        raise ShareError("api_wrong_id", f"asked {code}, got {answer['id']!r}")
    extra = {field: answer[key] for field, key in _OPTIONAL.items() if isinstance(answer.get(key), str) and answer[key]}
    return Article(info_code=canonical_info_code(code), body_html=text_to_html(text), via="share_api", **extra)


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
