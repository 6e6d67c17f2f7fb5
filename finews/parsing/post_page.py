"""Parse a rendered post page (Jekyll's post layout, SITE.md) into a raw Article.

The page's structure, in order inside the content section: a date line
``<small>(GMT+8, Asia/Shanghai, CST) YYYY-MM-DD HH:MM:SS</small>``, an ``<h1>``
title, the body, and ``<small>tags: <em>TAG</em></small>``. Nothing else of the
layout is relied on, so the old and new ``default.html`` both work.
"""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass
from urllib.parse import urljoin

import lxml.etree
import lxml.html

from finews.items import Article
from finews.parsing.body import HTML_PARSER, clean_inline
from finews.parsing.listing import back_link_slugs
from finews.parsing.urls import post_path, share_info_code

_DATE_LINE = re.compile(r"^\(GMT\+8[^)]*\)\s*(?P<date>.*)$")
_TAGS_PREFIX = "tags:"
_DATE_SMALL = lxml.etree.XPath("//small[starts-with(normalize-space(.), '(GMT+8')]")
_SHARE_HREFS = lxml.etree.XPath("//a[contains(@href, 'NewsShare.html')]/@href")


class NotAPostPage(ValueError):
    """The page lacks the post layout's date line or title."""


@dataclass
class PostPage:
    article: Article
    # Categories the page's "返回…" back links name: how a crawl discovers category pages.
    category_links: list[str]
    # The share link (…/NewsShare.html?infoCode=…), if the post has one.
    share_link: str | None = None


def parse_post_page(html: str | bytes, url: str, category_hint: str | None = None) -> PostPage:
    """Raw article of a post page; ``category_hint`` is the category page that listed it."""
    try:
        doc = lxml.html.document_fromstring(html, parser=HTML_PARSER)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise NotAPostPage(f"unparseable html: {exc}") from exc
    date_line = next(iter(_DATE_SMALL(doc)), None)
    if date_line is None:
        raise NotAPostPage("no '(GMT+8, …)' date line")
    title = next(date_line.itersiblings("h1"), None)
    if title is None:
        raise NotAPostPage("no <h1> title after the date line")

    body_parts = [htmllib.escape(title.tail, quote=False) if title.tail else ""]
    tags: list[str] = []
    for sibling in title.itersiblings():
        if sibling.tag == "small" and clean_inline(sibling.text_content()).startswith(_TAGS_PREFIX):
            tags = [clean_inline(em.text_content()) for em in sibling.iter("em")]
            tags = [t for t in tags if t]
            break
        body_parts.append(lxml.etree.tostring(sibling, encoding="unicode", method="html", with_tail=True))

    path = post_path(url)
    article = Article(
        title=clean_inline(title.text_content()),
        published_at=_DATE_LINE.match(clean_inline(date_line.text_content()))["date"].strip() or None,
        category=_category(path, category_hint),
        tags=tags,
        url=url,
        body_html="".join(body_parts),
        post_name=path.name if path else None,
        via="post_page",
    )
    share = next((urljoin(url, href) for href in _SHARE_HREFS(doc) if share_info_code(urljoin(url, href))), None)
    return PostPage(article, back_link_slugs(doc), share)


def _category(path, hint: str | None) -> str | None:
    """Category from the permalink; Jekyll lower-cases it there, so a matching hint keeps its case.

    The back link inside the body, read during normalization, wins over both.
    """
    if path is None or not path.categories:
        return hint
    from_url = " ".join(path.categories)
    if hint and hint.lower() == from_url.lower():
        return hint
    return from_url
