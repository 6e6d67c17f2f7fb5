"""What a rejection is: a machine-readable reason that travels with the drop."""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import DropItem


class Rejected(DropItem):
    """A DropItem with a reason code; the reject log turns it into a stat and a record.

    ``keep=False`` marks drops that lose nothing (an in-run duplicate): they are
    counted but not written to the rejects store.
    """

    def __init__(self, reason: str, detail: str = "", *, keep: bool = True) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason, log_level=None if keep else "DEBUG")
        self.reason = reason
        self.detail = detail
        self.keep = keep


def fit_raw(raw: Any, max_chars: int) -> Any:
    """A reject's raw input cut to ``max_chars`` characters of text in all (so its record fits in a MongoDB
    document: 4 bytes a character at most), each cut string marked with its length. Structure is kept."""
    budget = max_chars

    def cut(value: Any) -> Any:
        nonlocal budget
        if isinstance(value, str):
            keep = min(len(value), budget)
            budget -= keep
            return value if keep == len(value) else {"truncated_from": len(value), "text": value[:keep]}
        if isinstance(value, dict):
            return {str(key)[:200]: cut(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [cut(item) for item in value]
        if isinstance(value, bytes):
            return cut(value.decode("utf-8", "replace"))
        return value

    return cut(raw)
