"""The article contract: one schema (item.schema.json), checked by the validation pipeline.

jsonschema, the reference implementation of JSON Schema, is the oracle: the compiled check
passes exactly the items it passes, on every fixture and on broken variants of one.
"""

from __future__ import annotations

import dataclasses

import pytest
from conftest import FIXTURE_POSTS
from jsonschema import Draft202012Validator

from finews.normalize import normalize_article
from finews.parsing.source import article_from_source, read_source
from finews.pipelines.validate import ValidatePipeline, item_schema
from finews.rejects import Rejected

ARTICLES = [normalize_article(article_from_source(read_source(p.read_bytes(), p.name), "https://h"))
            for p in sorted(FIXTURE_POSTS.glob("*/*.md"))]
GOOD = next(a for a in ARTICLES if a.info_code and a.title and a.published_at)
# Broken variants of a good article, and the reason each is rejected with.
BROKEN = {
    "invalid_item: via": dataclasses.replace(GOOD, via="carrier_pigeon"),
    "bad_info_code": dataclasses.replace(GOOD, info_code="nw123"),
    "missing_info_code": dataclasses.replace(GOOD, info_code=None),
    "bad_date": dataclasses.replace(GOOD, published_at="2022-01-01T00:00:00+09:00"),
    "missing_date": dataclasses.replace(GOOD, published_at=None),
    "invalid_item: stocks": dataclasses.replace(GOOD, stocks=[{"code": "601169", "market": "1"}]),
    "missing_title": dataclasses.replace(GOOD, title=""),
    "invalid_item: content_hash": dataclasses.replace(GOOD, content_hash=None),
    "body_too_large": dataclasses.replace(GOOD, body_html="<p>" + "长" * 2000 + "</p>"),
}
MAX_BODY = 1000


@pytest.fixture
def pipeline() -> ValidatePipeline:
    return ValidatePipeline(max_body_chars=MAX_BODY)


def test_the_compiled_contract_agrees_with_jsonschema(pipeline):
    reference = Draft202012Validator(item_schema(MAX_BODY), format_checker=Draft202012Validator.FORMAT_CHECKER)
    verdicts = []
    for article in [*ARTICLES, *BROKEN.values()]:
        try:
            pipeline.process_item(article)
            compiled = True
        except Rejected:
            compiled = False
        assert compiled == reference.is_valid(vars(article)), article.post_name
        verdicts.append(compiled)
    assert verdicts.count(False) >= len(BROKEN), "every broken variant is refused"
    assert verdicts.count(True) >= 100, "most fixture posts keep the contract"


def test_valid_items_pass_unchanged(pipeline):
    before = dataclasses.asdict(GOOD)
    assert pipeline.process_item(GOOD) is GOOD
    assert dataclasses.asdict(GOOD) == before


@pytest.mark.parametrize("case", list(BROKEN))
def test_each_broken_rule_names_its_reason(pipeline, case):
    with pytest.raises(Rejected) as caught:
        pipeline.process_item(BROKEN[case])
    reason, _, field = case.partition(": ")
    assert caught.value.reason == reason
    if field:
        assert field in caught.value.detail, caught.value.detail


def test_the_body_cap_is_the_setting_not_the_schema_file():
    long_body = dataclasses.replace(GOOD, body_html="<p>" + "长" * 2000 + "</p>")
    assert ValidatePipeline(max_body_chars=10_000).process_item(long_body) is long_body
    with pytest.raises(Rejected) as caught:
        ValidatePipeline(max_body_chars=100).process_item(long_body)
    assert caught.value.detail == f"{GOOD.info_code}: 2007 > 100 characters"


def test_other_items_pass_through(pipeline):
    other = {"anything": 1}
    assert pipeline.process_item(other) is other
