"""What a rejection is: a machine-readable reason that travels with the drop."""

from __future__ import annotations

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
