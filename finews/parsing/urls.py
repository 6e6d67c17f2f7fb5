"""The site's URL scheme (SITE.md): which URL is a post, a category page, a share link."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, unquote, urljoin, urlsplit

# Jekyll's default "date" permalink: /<categories...>/<yyyy>/<mm>/<dd>/<name>.html
_POST_PATH = re.compile(
    r"^/(?:(?P<cats>.+)/)?(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/(?P<name>[^/]+)\.html$"
)
_CATEGORY_PATH = re.compile(r"^/category/(?P<slug>[^/]+)\.html$")
# Older back links point at /<slug>/ (SITE.md); the page for it is /category/<slug>.html.
_OLD_CATEGORY_PATH = re.compile(r"^/(?P<slug>[^/.]+)/$")
_RELATIVE_PREFIX = re.compile(r"^(?:\.{1,2}/)+")
_SHARE_PATH = re.compile(r"/html_News/NewsShare\.html$", re.IGNORECASE)
# Jekyll keeps these unescaped in paths; everything else non-ASCII or space is percent-encoded.
_PATH_SAFE = "/()!$&'*+,;=:@-._~"


@dataclass(frozen=True)
class PostPath:
    categories: tuple[str, ...]
    year: str
    month: str
    day: str
    name: str


def post_path(url: str) -> PostPath | None:
    """The parts of a post permalink, or None when the URL is not one."""
    match = _POST_PATH.match(unquote(urlsplit(url).path))
    if not match:
        return None
    cats = tuple(c for c in (match["cats"] or "").split("/") if c)
    return PostPath(cats, match["y"], match["m"], match["d"], match["name"])


def category_slug(url: str) -> str | None:
    """The category slug of a category page URL (``/category/<slug>.html``)."""
    match = _CATEGORY_PATH.match(unquote(urlsplit(url).path))
    return match["slug"] if match else None


def back_link_slug(href: str) -> str | None:
    """The category a "返回…" back link names, whatever its form or host.

    Back links went from ``../emnews/`` and ``./emnews/`` through
    ``//finews.zning.me/emnews/`` to ``//finews.withounder.com/category/<slug>.html``;
    the relative ones were written for the post's folder, not resolvable as they stand.
    """
    path = _RELATIVE_PREFIX.sub("/", unquote(urlsplit(href.strip()).path))
    path = path if path.startswith("/") else "/" + path
    match = _CATEGORY_PATH.match(path) or _OLD_CATEGORY_PATH.match(path)
    return match["slug"] if match else None


def category_url(base_url: str, slug: str) -> str:
    return urljoin(base_url, "category/" + quote(slug, safe=_PATH_SAFE) + ".html")


def quote_path(path: str) -> str:
    return quote(path, safe=_PATH_SAFE)


def share_info_code(url: str) -> str | None:
    """The infoCode of a share link (…/html_News/NewsShare.html?infoCode=X)."""
    parts = urlsplit(url)
    if not _SHARE_PATH.search(parts.path):
        return None
    codes = parse_qs(parts.query).get("infoCode") or parse_qs(parts.query).get("infocode")
    return codes[0].strip() if codes and codes[0].strip() else None


def same_site(url: str, base_url: str) -> bool:
    a, b = urlsplit(url), urlsplit(base_url)
    return a.scheme in ("http", "https") and a.netloc.lower() == b.netloc.lower()
