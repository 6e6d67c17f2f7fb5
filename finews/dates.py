"""Post dates: the site writes China Standard Time (UTC+8, no DST since 1991)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

CST = timezone(timedelta(hours=8))

_DATE = re.compile(
    r"^\s*(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[ T]+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.\d+)?)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?\s*$"
)


@lru_cache(maxsize=1024)  # an article's date is read five times on its way to the archive
def parse_post_date(value: str | None) -> datetime | None:
    """A tz-aware datetime from the forms posts use; a missing offset means UTC+8. None if unreadable."""
    match = _DATE.match(value or "")
    if not match:
        return None
    tz = CST
    if match["tz"] == "Z":
        tz = UTC
    elif match["tz"]:
        sign = -1 if match["tz"][0] == "-" else 1
        digits = match["tz"][1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    try:
        return datetime(
            int(match["y"]), int(match["mo"]), int(match["d"]),
            int(match["h"] or 0), int(match["mi"] or 0), int(match["s"] or 0), tzinfo=tz,
        )
    except ValueError:
        return None


def iso_cst(moment: datetime) -> str:
    """ISO 8601 in UTC+8, seconds precision: ``2022-04-01T23:13:43+08:00``."""
    return moment.astimezone(CST).isoformat(timespec="seconds")


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
