"""Pipeline step 1: every Article leaves in its normalized form."""

from __future__ import annotations

from typing import Any

from finews.items import Article
from finews.normalize import normalize_article


class NormalizePipeline:
    def process_item(self, item: Any) -> Any:
        return normalize_article(item) if isinstance(item, Article) else item
