"""Info codes: the article key.

Eastmoney news ids are 18 digits (``yyyymmdd`` + 10 digits). The same article
appears as the bare id (emnews posts, their ``…/news/<column>,<id>.html``
links, post file names) and as ``NW<id>`` (share links, media posts). The
canonical form is ``NW<id>``; other prefixed codes (``AN…`` and the like) are
kept as they are, upper-cased. Raw forms seen are kept as aliases.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_BARE_ID = re.compile(r"\d{8,24}")
_PREFIXED = re.compile(r"[A-Z]{2}\d{8,24}")
_ORIGIN_ID = re.compile(r"(?:^|[,/])(\d{18})\.html?$")


def canonical_info_code(raw: str | None) -> str | None:
    """``NW`` + id for bare news ids, the upper-cased code for prefixed ones, else None."""
    if not raw:
        return None
    code = raw.strip().upper()
    if _BARE_ID.fullmatch(code):
        return "NW" + code
    if _PREFIXED.fullmatch(code):
        return code
    return None


def origin_news_id(url: str | None) -> str | None:
    """The 18-digit id of an Eastmoney article link (``…/news/1353,<id>.html``, ``…/a/<id>.html``)."""
    if not url:
        return None
    parts = urlsplit(url)
    if not (parts.hostname or "").endswith("eastmoney.com"):
        return None
    match = _ORIGIN_ID.search(parts.path)
    return match[1] if match else None
