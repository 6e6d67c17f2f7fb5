"""Take a post body apart: the article itself, its digest, the links around it, stock widgets.

The same function serves post pages, post sources and share pages, and it is
idempotent: running it on its own output gives the same html and text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

import lxml.etree
import lxml.html
import nh3

from finews.codes import origin_news_id
from finews.parsing.urls import back_link_slug, share_info_code

ALLOWED_TAGS = {
    "p", "br", "a", "img", "strong", "b", "em", "i", "u", "sub", "sup", "blockquote",
    "ul", "ol", "li", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr",
    "td", "th", "pre", "code", "hr", "figure", "figcaption", "div",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
# Elements whose content is never article text.
_DROP_WITH_CONTENT = ("script", "style", "noscript", "iframe", "object", "embed", "form", "template")
_BLOCK_TAGS = {
    "p", "div", "blockquote", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "table",
    "thead", "tbody", "tr", "td", "th", "center", "section", "article", "figure", "figcaption",
    "pre", "hr", "header", "footer", "aside",
}
_LOWER = "translate(@style, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ \t', 'abcdefghijklmnopqrstuvwxyz')"
# One walk of the tree (a union of ".//script | .//style | …" walks it once per branch).
_HIDDEN_OR_CODE = lxml.etree.XPath(
    ".//*[" + " or ".join(f"self::{tag}" for tag in _DROP_WITH_CONTENT)
    + f" or @hidden or (@style and (contains({_LOWER}, 'display:none') or contains({_LOWER}, 'visibility:hidden')))]"
)
_WIDGET_ANCHORS = lxml.etree.XPath(".//a[contains(concat(' ', normalize-space(@class), ' '), ' EmImageRemark ')]")
# A quote link: http://quote.eastmoney.com/unify/r/<market>.<code> (Eastmoney's "secid"), often with
# data-code="<market>,<code>" beside it.
_QUOTE_LINK = re.compile(r"quote\.eastmoney\.com/unify/r/(?P<market>\d+)\.(?P<code>[A-Za-z0-9]+)", re.IGNORECASE)
_SOURCE_LINES = lxml.etree.XPath(".//p[contains(., '文章来源')]")
_SPACE = re.compile(r"[ \t\r\n\f\v\xa0\u200b]+")
_EDGE = " \t\r\n\f\v\xa0\u200b\u3000"
# Paragraphs with nothing left once their links are gone: separators and an empty autolink "<>".
_EMPTY_BLOCKS = lxml.etree.XPath(
    ".//*[self::p or self::div or self::center or self::span or self::strong or self::b or self::em"
    " or self::i or self::u][not(.//img)]"
    "[normalize-space(translate(., '｜|<>\u3000\u00a0\u200b', '')) = '']"
)
# lxml.html's own parser picks a class per tag through a Python callback, for every element
# touched; these bodies need no form or input classes, so one class, looked up in C.
# huge_tree: libxml2 otherwise drops a text node over 10 MB without a word; FINEWS_MAX_BODY_CHARS judges it.
HTML_PARSER = lxml.html.HTMLParser(huge_tree=True)
HTML_PARSER.set_element_class_lookup(lxml.etree.ElementDefaultClassLookup(
    element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment, pi=lxml.html.HtmlProcessingInstruction,
    entity=lxml.html.HtmlEntity,
))
# The allow-list sanitizer, configured once (nh3.clean() converts its arguments on every call).
_SANITIZER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes={"http", "https", "mailto"},
    link_rel=None,
    clean_content_tags=set(_DROP_WITH_CONTENT) - {"noscript"},
    strip_comments=True,
)
_MEDIA_SOURCE = re.compile(r"^[（(]\s*文章来源\s*[：:]\s*(?P<name>.+?)\s*[）)]$")


@dataclass
class Body:
    html: str
    text: str
    summary: str | None = None
    share_url: str | None = None
    origin_url: str | None = None
    media_source: str | None = None
    stocks: list[dict] = field(default_factory=list)
    linked_stocks: list[dict] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    # Category slugs named by back links ("返回…" → /category/<slug>.html or /<slug>/).
    category_slugs: list[str] = field(default_factory=list)


def split_body(raw_html: str | None, base_url: str | None = None) -> Body:
    """Split a raw body into clean article html/text and the metadata that surrounded it."""
    root = _fragment(raw_html or "")
    body = Body(html="", text="")
    body.stocks = _take_stock_widgets(root)
    _drop_hidden_and_code(root)
    body.linked_stocks = linked_stocks(root)
    _take_links(root, base_url, body)
    _drop_empty_blocks(root)
    body.summary = _take_summary(root)
    body.media_source = _media_source(root)
    _absolutize(root, base_url)
    body.images = _unique(
        src for img in root.iter("img") if (src := img.get("src") or "").startswith(("http://", "https://"))
    )
    _trim_blocks(root)
    _one_line_between_blocks(root)
    # Blocks the allow-list lacks become <div>, so sanitizing never merges paragraphs: the text
    # read from this tree is the text of the sanitized html (and normalizing twice changes nothing).
    for element in root.iter():
        if element.tag in _BLOCK_TAGS and element.tag not in ALLOWED_TAGS:
            element.tag = "div"
    body.text = "\n\n".join(text_blocks(root))
    body.html = _SANITIZER.clean(_serialize(root)).strip()
    return body


def text_blocks(root: lxml.html.HtmlElement) -> list[str]:
    """The text of each block (paragraph, list item, line after <br>), cleaned, empty ones left out."""
    blocks: list[str] = []
    current: list[str] = []

    def flush() -> None:
        text = clean_inline("".join(current))
        current.clear()
        if text:
            blocks.append(text)

    def walk(element: lxml.html.HtmlElement) -> None:
        if element.text:
            current.append(element.text)
        for child in element:
            tag = child.tag if isinstance(child.tag, str) else None
            if tag in _BLOCK_TAGS or tag == "br":
                flush()
            if tag is not None and tag not in _DROP_WITH_CONTENT:
                walk(child)
            if tag in _BLOCK_TAGS:
                flush()
            if child.tail:
                current.append(child.tail)

    walk(root)
    flush()
    return blocks


def clean_inline(text: str) -> str:
    """One paragraph's text: whitespace runs folded, no indentation (full-width or not)."""
    return _SPACE.sub(" ", text).strip(_EDGE)


def _fragment(html: str) -> lxml.html.HtmlElement:
    """The body under one <div> (lxml.html.fragment_fromstring's, but its <div> and elements from HTML_PARSER)."""
    try:
        elements = lxml.html.fragments_fromstring(html, parser=HTML_PARSER)
    except (lxml.etree.ParserError, ValueError):
        elements = []
    root = HTML_PARSER.makeelement("div")
    if elements and isinstance(elements[0], str):
        root.text = elements.pop(0)
    root.extend(elements)
    return root


def _serialize(root: lxml.html.HtmlElement) -> str:
    """The html inside the root <div> (serialized at once: one call instead of one a child)."""
    html = lxml.etree.tostring(root, encoding="unicode", method="html")
    return html[len("<div>"):-len("</div>")]


def _take_stock_widgets(root: lxml.html.HtmlElement) -> list[dict]:
    """Read the codes of EM_StockImg K-line widgets, then remove the widgets."""
    stocks: list[dict] = []
    seen: set[tuple[str, int]] = set()
    widgets = _WIDGET_ANCHORS(root)
    for anchor in widgets:
        parts = (anchor.get("data-code") or "").split("|")
        if len(parts) >= 2 and parts[0] and parts[1].strip().lstrip("-").isdigit():
            key = (parts[0].strip(), int(parts[1]))
            if key not in seen:
                seen.add(key)
                stocks.append({"code": key[0], "market": key[1]})
    # Everything between the widget's start and end comments goes.
    for comment in list(root.iter(lxml.etree.Comment)):
        if "EM_StockImg_Start" not in (comment.text or "") or comment.getparent() is None:
            continue
        sibling = comment.getnext()
        while sibling is not None and not (
            sibling.tag is lxml.etree.Comment and "EM_StockImg_End" in (sibling.text or "")
        ):
            following = sibling.getnext()
            sibling.drop_tree()
            sibling = following
    # A widget whose comments were lost: drop its paragraph.
    for anchor in widgets:
        holder = next((p for p in anchor.iterancestors("p")), anchor)
        if holder.getparent() is not None:
            holder.drop_tree()
    return stocks


def linked_stocks(root: lxml.html.HtmlElement) -> list[dict]:
    """Every stock, index or board the visible text links to a quote page, once, in order: code, market (the
    secid's prefix, an int) and the name the link shows. A link without a quote address counts by its
    ``data-code="<market>,<code>"``; the K-line widgets (``stocks``) are taken out before."""
    found: list[dict] = []
    seen: set[tuple[str, int]] = set()
    for anchor in root.iter("a"):
        match = _QUOTE_LINK.search(anchor.get("href") or "")
        if match:
            market, code = match["market"], match["code"]
        else:
            market, _, code = (anchor.get("data-code") or "").partition(",")
            market, code = market.strip(), code.strip()
            if not (market.isdigit() and code.isalnum()):
                continue
        key = (code, int(market))
        if key not in seen:
            seen.add(key)
            found.append({"code": code, "market": key[1], "name": _SPACE.sub(" ", anchor.text_content()).strip()
                          or None})
    return found


def _drop_hidden_and_code(root: lxml.html.HtmlElement) -> None:
    for el in _HIDDEN_OR_CODE(root):
        if el.getparent() is not None:
            el.drop_tree()
    for comment in list(root.iter(lxml.etree.Comment)):
        if comment.getparent() is not None:
            comment.drop_tree()


def _take_links(root: lxml.html.HtmlElement, base_url: str | None, body: Body) -> None:
    """Remove share links, back links and the origin autolink, remembering where they pointed."""
    slugs: list[str] = []
    for anchor in list(root.iter("a")):
        href = (anchor.get("href") or "").strip()
        text = anchor.text_content().strip()
        if "newsshare.html" in href.lower():
            absolute = urljoin(base_url, href) if base_url else href
            if body.share_url is None and share_info_code(absolute):
                body.share_url = absolute
        elif text.startswith("返回"):
            slug = back_link_slug(href)
            if slug:
                slugs.append(slug)
        elif text.rstrip("/") == href.rstrip("/") and origin_news_id(href):
            # An autolink (its text is its address) to the Eastmoney article.
            body.origin_url = body.origin_url or href
        else:
            continue
        anchor.drop_tree()
    body.category_slugs = _unique(slugs)


def _drop_empty_blocks(root: lxml.html.HtmlElement) -> None:
    for element in _EMPTY_BLOCKS(root):
        if element.getparent() is not None:
            element.drop_tree()


def _trim_blocks(root: lxml.html.HtmlElement) -> None:
    """No white space at the edges of a paragraph (Markdown renderers differ on keeping it)."""
    for block in root.iter("p", "li", "h2", "h3", "h4", "h5", "h6", "td", "th", "figcaption"):
        if block.text:
            block.text = block.text.lstrip(" \t\r\n")
        last = block[-1] if len(block) else None
        if last is None:
            block.text = (block.text or "").rstrip(" \t\r\n") or None
        elif last.tail:
            last.tail = last.tail.rstrip(" \t\r\n") or None


def _one_line_between_blocks(root: lxml.html.HtmlElement) -> None:
    """One newline between top-level blocks, none around them: Markdown renderers differ there."""
    if root.text is not None and not root.text.strip():
        root.text = None
    children = list(root)
    for child, following in zip(children, [*children[1:], None][: len(children)], strict=True):
        if child.tail is not None and child.tail.strip():
            continue
        if following is None:
            child.tail = None
        elif child.tag in _BLOCK_TAGS and following.tag in _BLOCK_TAGS:
            child.tail = "\n"


def _take_summary(root: lxml.html.HtmlElement) -> str | None:
    """A leading "> digest" blockquote is the summary; it leaves the body when more follows."""
    first = next((el for el in root if isinstance(el.tag, str)), None)
    if first is None or first.tag != "blockquote" or (root.text or "").strip():
        return None
    summary = "\n\n".join(text_blocks(first)) or None
    if clean_inline(first.tail or "") or any(
        el.tag == "img" or el.find(".//img") is not None or clean_inline(el.text_content() + (el.tail or ""))
        for el in first.itersiblings() if isinstance(el.tag, str)
    ):
        first.drop_tree()
    return summary


def _media_source(root: lxml.html.HtmlElement) -> str | None:
    found = None
    for para in _SOURCE_LINES(root):
        match = _MEDIA_SOURCE.match(clean_inline(para.text_content()))
        if match:
            found = match["name"]
    return found


def _absolutize(root: lxml.html.HtmlElement, base_url: str | None) -> None:
    if not base_url:
        return
    for element, attribute in (("a", "href"), ("img", "src")):
        for node in root.iter(element):
            value = (node.get(attribute) or "").strip()
            if value and not value.startswith(("#", "mailto:", "javascript:")):
                node.set(attribute, urljoin(base_url, value))


def _unique(values) -> list:
    seen: set = set()
    out = []
    for value in values:
        if value not in seen:
            seen.add(value)
            out.append(value)
    return out
