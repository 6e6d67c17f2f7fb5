"""Links out of listing pages (home, category pages, post pages) and the Atom feed."""

from __future__ import annotations

from urllib.parse import urldefrag, urljoin

import lxml.etree
import lxml.html

from finews.parsing.urls import back_link_slug

_ATOM = "{http://www.w3.org/2005/Atom}"
_BACK_LINK_HREFS = lxml.etree.XPath("//a[starts-with(normalize-space(.), '返回')]/@href")


def page_links(html: str | bytes, page_url: str) -> list[str]:
    """Every <a href> of a page, absolute and without fragment, in page order, once each."""
    try:
        doc = lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return []
    return _absolute(doc.xpath("//a/@href"), page_url)


def back_link_categories(html: str | bytes) -> list[str]:
    """Category slugs named by a page's "返回…" back links (how posts point to their category)."""
    try:
        doc = lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return []
    return back_link_slugs(doc)


def back_link_slugs(doc: lxml.html.HtmlElement) -> list[str]:
    """The same, for a page already parsed."""
    slugs: list[str] = []
    for href in _BACK_LINK_HREFS(doc):
        slug = back_link_slug(href)
        if slug and slug not in slugs:
            slugs.append(slug)
    return slugs


def feed_links(xml: bytes, feed_url: str) -> list[str]:
    """The entry links of an Atom feed (jekyll-feed's /feed.xml)."""
    parser = lxml.etree.XMLParser(resolve_entities=False, no_network=True, recover=True)
    try:
        root = lxml.etree.fromstring(xml, parser=parser)
    except lxml.etree.XMLSyntaxError:
        return []
    if root is None:
        return []
    hrefs = [
        link.get("href")
        for entry in root.iter(f"{_ATOM}entry")
        for link in entry.iter(f"{_ATOM}link")
        if link.get("rel", "alternate") == "alternate"
    ]
    return _absolute(hrefs, feed_url)


def _absolute(hrefs: list, base: str) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for raw in hrefs:
        href = (raw or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "#")):
            continue
        url = urldefrag(urljoin(base, href))[0]
        if url not in seen:
            seen.add(url)
            out.append(url)
    return out
