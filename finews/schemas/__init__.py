"""The JSON Schemas that ship with finews: the stored article document, and the article item."""

import json
from importlib.resources import files

ARTICLE_SCHEMA = json.loads((files(__package__) / "article.schema.json").read_text(encoding="utf-8"))
ITEM_SCHEMA = json.loads((files(__package__) / "item.schema.json").read_text(encoding="utf-8"))
