"""Spidermon's item validation against finews/schemas/item.schema.json, without its deep copy of each item.

Spidermon's ItemValidationPipeline validates ``ItemAdapter(item).asdict()``, a deep
conversion that cost as much as validating; an Article's fields are already plain JSON
values, so its own ``__dict__`` is validated (read only). Stats and errors are Spidermon's.
"""

from __future__ import annotations

from typing import Any

from spidermon.contrib.scrapy.pipelines import ItemValidationPipeline

from finews.items import Article


class ArticleValidationPipeline(ItemValidationPipeline):
    def process_item(self, item: Any, spider: Any = None) -> Any:
        if not isinstance(item, Article):
            return super().process_item(item, spider)
        validators = self.find_validators(item)
        fields = vars(item)
        self.stats.add_item()
        self.stats.add_fields(len(fields))
        for validator in validators:
            ok, errors = validator.validate(fields)
            if not ok:
                self._add_error_stats(errors)
                if self.drop_items_with_errors:
                    self._drop_item(item, errors)
        return item
