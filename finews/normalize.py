"""Article normalization: any raw Article in, the one clean stored form out.

``normalize_article(normalize_article(a)) == normalize_article(a)``: values
taken out of the body on the first pass (share link, stock widgets, digest)
are kept from the item when the cleaned body no longer holds them.
"""

from __future__ import annotations

import dataclasses
import hashlib

from finews.codes import canonical_info_code, origin_news_id
from finews.dates import iso_cst, parse_post_date
from finews.items import Article
from finews.parsing.body import clean_inline, split_body
from finews.parsing.urls import share_info_code

_TAG_SUFFIX = "新闻"


def normalize_article(article: Article) -> Article:
    body = split_body(article.body_html, article.url)
    title = clean_inline(article.title or "")
    tags = [t for t in (clean_inline(t) for t in article.tags) if t]
    share_url = body.share_url or article.share_url
    origin_url = body.origin_url or article.origin_url
    info_code, aliases = _info_code(article, share_url, origin_url)
    return dataclasses.replace(
        article,
        info_code=info_code,
        aliases=aliases,
        title=title,
        published_at=_published_at(article.published_at),
        category=_category(article.category, body.category_slugs),
        source=body.media_source or article.source or source_from_tags(tags),
        tags=tags,
        share_url=share_url,
        origin_url=origin_url,
        summary=body.summary or article.summary,
        body_html=body.html,
        body_text=body.text,
        stocks=_merge_stocks(body.stocks, article.stocks),
        linked_stocks=body.linked_stocks,
        images=body.images,
        content_hash=content_hash(title, body.text),
    )


def content_hash(title: str, body_text: str) -> str:
    """What counts as a change of content: the title or the article text."""
    return hashlib.sha256(f"{title}\n{body_text}".encode()).hexdigest()


def source_from_tags(tags: list[str]) -> str | None:
    """The media name of a ``<media>新闻`` tag (``华夏时报新闻`` → ``华夏时报``)."""
    if not tags:
        return None
    tag = tags[0]
    return tag[: -len(_TAG_SUFFIX)] if tag.endswith(_TAG_SUFFIX) and len(tag) > len(_TAG_SUFFIX) else tag


def _published_at(value: str | None) -> str | None:
    """ISO 8601 with +08:00; an unreadable value is kept as it is for validation to reject."""
    moment = parse_post_date(value)
    if moment is not None:
        return iso_cst(moment)
    return (value or "").strip() or None


def _info_code(article: Article, share_url: str | None, origin_url: str | None) -> tuple[str | None, list[str]]:
    """Canonical code by precedence: explicit, share link, origin link, post name; the rest are aliases."""
    raw = [article.info_code, share_info_code(share_url or ""), origin_news_id(origin_url), article.post_name]
    raw += article.aliases
    canonical = next((c for c in map(canonical_info_code, raw) if c), None)
    aliases: list[str] = []
    for item in raw:
        value = (item or "").strip()
        if value and value != canonical and value not in aliases and canonical_info_code(value) == canonical:
            aliases.append(value)
    return canonical, aliases


def _category(current: str | None, back_link_slugs: list[str]) -> str | None:
    """Keep the known category, restoring its case from a back link (permalinks lower-case it)."""
    current = (current or "").strip() or None
    if current is None:
        return back_link_slugs[0] if back_link_slugs else None
    return next((s for s in back_link_slugs if s.lower() == current.lower()), current)


def _merge_stocks(found: list[dict], known: list[dict]) -> list[dict]:
    merged: list[dict] = []
    for stock in [*found, *known]:
        if stock not in merged:
            merged.append(stock)
    return merged
