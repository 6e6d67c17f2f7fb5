"""The item validation pipeline: Spidermon's verdicts and stats, with the compiled schema as a fast path."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest
from conftest import FIXTURE_POSTS
from jsonschema import Draft202012Validator
from scrapy.exceptions import DropItem
from scrapy.settings import Settings
from scrapy.statscollectors import MemoryStatsCollector

from finews.normalize import normalize_article
from finews.parsing.source import article_from_source, read_source
from finews.pipelines.item_schema import ArticleValidationPipeline, passes
from finews.schemas import ITEM_SCHEMA
from finews.settings import SPIDERMON_VALIDATION_SCHEMAS

ARTICLES = [normalize_article(article_from_source(read_source(p.read_bytes(), p.name), "https://h"))
            for p in sorted(FIXTURE_POSTS.glob("*/*.md"))]
GOOD = next(a for a in ARTICLES if a.info_code)
BROKEN = {
    "via": dataclasses.replace(GOOD, via="carrier_pigeon"),
    "info_code": dataclasses.replace(GOOD, info_code="nw123"),
    "published_at": dataclasses.replace(GOOD, published_at="2022-01-01T00:00:00+09:00"),
    "stocks.0.market": dataclasses.replace(GOOD, stocks=[{"code": "601169", "market": "1"}]),
    "title": dataclasses.replace(GOOD, title=""),
    "content_hash": dataclasses.replace(GOOD, content_hash=None),
}


@pytest.fixture
def pipeline() -> ArticleValidationPipeline:
    return ArticleValidationPipeline.from_crawler(crawler())


def crawler() -> SimpleNamespace:
    """What the pipeline reads of a crawler: the project's Spidermon settings, and stats."""
    settings = Settings({"SPIDERMON_ENABLED": True, "SPIDERMON_VALIDATION_DROP_ITEMS_WITH_ERRORS": True,
                         "SPIDERMON_VALIDATION_SCHEMAS": SPIDERMON_VALIDATION_SCHEMAS})
    holder = SimpleNamespace(settings=settings)
    holder.stats = MemoryStatsCollector(holder)
    return holder


def test_compiled_schema_agrees_with_jsonschema():
    reference = Draft202012Validator(ITEM_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
    pipeline_compiled = ArticleValidationPipeline.from_crawler(crawler()).compiled["Article"]
    assert pipeline_compiled, "the item schema has a compiled fast path"
    checked = 0
    for article in [*ARTICLES, *BROKEN.values()]:
        fields = vars(article)
        assert passes(pipeline_compiled, fields) == reference.is_valid(fields), article.post_name
        checked += 1
    assert checked == len(ARTICLES) + len(BROKEN)


def test_valid_items_pass_and_are_counted(pipeline):
    valid = [a for a in ARTICLES if a.info_code and a.title and a.published_at]
    for article in valid:
        assert pipeline.process_item(article) is article
    stats = pipeline.stats.stats
    assert stats.get_value("spidermon/validation/items") == len(valid)
    assert stats.get_value("spidermon/validation/items/errors") is None


@pytest.mark.parametrize("field", list(BROKEN))
def test_invalid_items_get_spidermons_verdict_and_stats(pipeline, field):
    with pytest.raises(DropItem):
        pipeline.process_item(BROKEN[field])
    stats = pipeline.stats.stats
    assert stats.get_value("spidermon/validation/items/errors") == 1
    assert stats.get_value("spidermon/validation/items/dropped") == 1
    errors = [key for key in stats.get_stats() if key.startswith("spidermon/validation/fields/errors/")]
    assert any(key.endswith(f"/{field}") for key in errors), errors
