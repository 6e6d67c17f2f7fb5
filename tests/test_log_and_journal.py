"""Small pieces of the hot path: the crawled and scraped log records, and the journal's encoding."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from bson import json_util
from scrapy.http import HtmlResponse, Request
from scrapy.settings import Settings

from finews.items import Article
from finews.logformatter import FinewsLogFormatter
from finews.storage.journal import _JSON, encode


@pytest.mark.parametrize(("level", "logged"), [("DEBUG", True), ("INFO", False), ("WARNING", False)])
def test_scraped_items_are_logged_only_when_the_level_shows_them(level, logged):
    formatter = FinewsLogFormatter.from_crawler(SimpleNamespace(settings=Settings({"LOG_LEVEL": level})))
    record = formatter.scraped(Article(info_code="NW202201010000000001"), None, SimpleNamespace())
    assert (record is not None) == logged


@pytest.mark.parametrize(("level", "logged"), [("DEBUG", True), ("INFO", False)])
def test_crawled_pages_are_logged_only_when_the_level_shows_them(level, logged):
    formatter = FinewsLogFormatter.from_crawler(SimpleNamespace(settings=Settings({"LOG_LEVEL": level})))
    request = Request("http://127.0.0.1/")
    record = formatter.crawled(request, HtmlResponse(request.url, request=request), SimpleNamespace())
    assert (record is not None) == logged
    if logged:
        assert record["level"] == logging.DEBUG and "Crawled" in record["msg"]


def test_journal_lines_read_back_as_json_util_writes_them():
    doc = {"_id": "NW202201010000000001", "title": "中文 \"quoted\"", "summary": None, "version": 11,
           "published_at": datetime(2022, 1, 1, 8, tzinfo=UTC), "stocks": [{"code": "601169", "market": 1}]}
    line = encode(doc)
    assert json_util.loads(line, json_options=_JSON) == doc
    assert json_util.loads(json_util.dumps(doc, json_options=_JSON), json_options=_JSON) == json_util.loads(
        line, json_options=_JSON)
    assert "\n" not in line
