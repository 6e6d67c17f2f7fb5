"""Pipeline step 3: the same article with the same content, path and version is passed on once per run.

The archive (MongoDB ``_id`` = info code) is the lasting dedupe; this step
only saves it writes of exact repeats (a post reached from several listings
under different URLs). A changed text under the same code passes: the
store keeps it as a revision.
"""

from __future__ import annotations

import hashlib
from typing import Any

from itemadapter import ItemAdapter

from finews.items import Article
from finews.rejects import Rejected


class DedupePipeline:
    def __init__(self, max_keys: int = 200_000) -> None:
        self._seen: set[bytes] = set()
        # Bounded: past this many, the set starts over; a repeat it forgot costs one redundant write.
        self.max_keys = max_keys

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        adapter = ItemAdapter(item)
        key = hashlib.blake2b(
            "\0".join(str(adapter.get(k)) for k in ("info_code", "content_hash", "via", "version")).encode(),
            digest_size=16,
        ).digest()
        if key in self._seen:
            raise Rejected("duplicate", str(adapter.get("info_code")), keep=False)
        if len(self._seen) >= self.max_keys:
            self._seen.clear()
        self._seen.add(key)
        return item
