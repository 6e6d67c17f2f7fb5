"""Pipeline step 2: an article that breaks the article contract goes to the rejects, with a reason.

The contract is one file, ``finews/schemas/item.schema.json``; this step checks every
Article against it (with ``FINEWS_MAX_BODY_CHARS`` as the body's ``maxLength``), compiled
to Python once by fastjsonschema. The first broken rule names the reject reason: an
article the parsers could not key, title or date is bad input (``missing_*``, ``bad_*``,
``body_too_large``); anything else the schema refuses is finews' own fault
(``invalid_item``, which the validation monitor fails on).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import fastjsonschema
from scrapy.crawler import Crawler

from finews.items import Article
from finews.rejects import Rejected
from finews.schemas import ITEM_SCHEMA

# (field, rule the value broke) -> reason; a rule of None matches any rule of that field.
_REASONS: dict[tuple[str, str | None], str] = {
    ("info_code", "type"): "missing_info_code",
    ("info_code", None): "bad_info_code",
    ("title", None): "missing_title",
    ("published_at", "type"): "missing_date",
    ("published_at", None): "bad_date",
    ("body_html", "maxLength"): "body_too_large",
}
_MISSING_CODE = "no share link, article link or id-like post name"


def item_schema(max_body_chars: int) -> dict[str, Any]:
    """The item contract with the body cap of this run."""
    schema = copy.deepcopy(ITEM_SCHEMA)
    schema["properties"]["body_html"]["maxLength"] = max_body_chars
    return schema


class ValidatePipeline:
    def __init__(self, max_body_chars: int) -> None:
        self.max_body_chars = max_body_chars
        self.check: Callable[[dict[str, Any]], Any] = fastjsonschema.compile(item_schema(max_body_chars))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        return cls(max_body_chars=crawler.settings.getint("FINEWS_MAX_BODY_CHARS"))

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        fields = vars(item)  # read only: an Article's fields are plain JSON values
        try:
            self.check(fields)
        except fastjsonschema.JsonSchemaValueException as exc:
            raise self.rejection(fields, exc) from None
        return item

    def rejection(self, fields: dict[str, Any], exc: fastjsonschema.JsonSchemaValueException) -> Rejected:
        field = exc.path[1] if len(exc.path) > 1 else ""
        reason = _REASONS.get((field, exc.rule)) or _REASONS.get((field, None)) or "invalid_item"
        code = fields.get("info_code")
        if reason == "missing_info_code":
            return Rejected(reason, _MISSING_CODE)
        if reason == "bad_info_code":
            return Rejected(reason, repr(code))
        if reason in ("missing_title", "missing_date"):
            return Rejected(reason, str(code))
        if reason == "bad_date":
            return Rejected(reason, f"{code}: {fields.get('published_at')!r}")
        if reason == "body_too_large":
            return Rejected(reason, f"{code}: {len(fields['body_html'])} > {self.max_body_chars} characters")
        return Rejected(reason, f"{code}: {exc.message}")
