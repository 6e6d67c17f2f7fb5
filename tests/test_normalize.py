"""Article normalization: idempotence on every fixture, info codes, dates, sanitizing."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from urllib.parse import unquote

import pytest
from conftest import FIXTURE_POSTS

from finews.codes import canonical_info_code, origin_news_id
from finews.dates import parse_post_date
from finews.items import Article
from finews.normalize import normalize_article, source_from_tags
from finews.parsing.post_page import parse_post_page
from finews.parsing.source import article_from_source, read_source
from finews.pipelines.validate import ValidatePipeline
from finews.rejects import Rejected
from finews.replica.site import Site

ALL_SOURCES = sorted(FIXTURE_POSTS.glob("*/*.md"))


@pytest.mark.parametrize("path", ALL_SOURCES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_normalizing_twice_changes_nothing_from_sources(path: Path):
    once = normalize_article(article_from_source(read_source(path.read_bytes(), path.name), "https://h"))
    assert normalize_article(once) == once
    assert normalize_article(dataclasses.replace(once)) == once


def test_normalizing_twice_changes_nothing_from_pages():
    site = Site(FIXTURE_POSTS)
    checked = 0
    for post in site.posts:
        try:
            raw = parse_post_page(site.page(unquote(post.path)).body, "http://127.0.0.1" + post.path).article
        except ValueError:
            continue
        once = normalize_article(raw)
        assert normalize_article(once) == once, post.path
        checked += 1
    assert checked == 120


@pytest.mark.parametrize(("raw", "canonical"), [
    ("202112082206703990", "NW202112082206703990"),
    ("NW202204012331570959", "NW202204012331570959"),
    ("nw202204012331570959", "NW202204012331570959"),
    (" AN202203011549000001 ", "AN202203011549000001"),
    ("init", None), ("", None), (None, None), ("-202205262391921712", None),
])
def test_canonical_info_codes(raw, canonical):
    assert canonical_info_code(raw) == canonical


def test_origin_ids_only_from_eastmoney_articles():
    assert origin_news_id("http://futures.eastmoney.com/news/1517,202112082206710723.html") == "202112082206710723"
    assert origin_news_id("https://finance.eastmoney.com/a/202112082206710723.html") == "202112082206710723"
    assert origin_news_id("http://example.com/news/1517,202112082206710723.html") is None
    assert origin_news_id("http://quote.eastmoney.com/unify/r/1.601169") is None


@pytest.mark.parametrize(("value", "iso"), [
    ("2022-04-01 23:13:43 +0800", "2022-04-01T23:13:43+08:00"),
    ("2021-12-08 10:46:18", "2021-12-08T10:46:18+08:00"),
    ("2022-04-01T15:13:43Z", "2022-04-01T23:13:43+08:00"),
    ("2022-04-01T23:13:43+08:00", "2022-04-01T23:13:43+08:00"),
    ("2022-04-01", "2022-04-01T00:00:00+08:00"),
])
def test_dates(value, iso):
    assert normalize_article(Article(published_at=value)).published_at == iso


@pytest.mark.parametrize("value", ["", " +0800", "2022-13-45 10:00:00", "yesterday"])
def test_unreadable_dates(value):
    assert parse_post_date(value) is None


def test_source_prefers_the_article_source_line():
    assert source_from_tags(["华夏时报新闻"]) == "华夏时报"
    assert source_from_tags(["新闻"]) == "新闻"
    assert source_from_tags([]) is None
    body = "<p>正文</p><p>（文章来源：<b>证券</b>时报）</p>"
    article = normalize_article(Article(tags=["东财滚动新闻"], body_html=body))
    assert article.source == "证券时报"


def test_sanitizing_removes_active_and_hidden_content():
    body = (
        '<p onclick="steal()">正文<script>alert(1)</script><style>p{}</style></p>'
        '<p style="display:none">隐藏</p><p hidden>也隐藏</p><p style="DISPLAY : None">大写隐藏</p>'
        '<div style="visibility: hidden">不可见隐藏</div>'
        '<p><a href="javascript:alert(1)">链接</a><img src="x.png" onerror="bad()"></p>'
        '<iframe src="http://evil"></iframe><p>\u3000\u3000第二段&nbsp;&amp; 实体</p>'
    )
    article = normalize_article(Article(url="https://finews.withounder.com/a/2022/01/01/x.html", body_html=body))
    for bad in ("onclick", "script", "alert", "style", "隐藏", "onerror", "iframe", "javascript"):
        assert bad not in article.body_html
    assert article.body_text == "正文\n\n链接\n\n第二段 & 实体"
    assert article.images == ["https://finews.withounder.com/a/2022/01/01/x.png"]


def test_validation_rejects_missing_fields_and_huge_bodies():
    validate = ValidatePipeline(max_body_chars=1000)
    good = normalize_article(Article(info_code="NW202201010000000001", title="t", published_at="2022-01-01 00:00:00",
                                     body_html="<p>x</p>"))
    assert validate.process_item(good) is good
    cases = {
        "missing_info_code": dataclasses.replace(good, info_code=None),
        "bad_info_code": dataclasses.replace(good, info_code="init"),
        "missing_title": dataclasses.replace(good, title=""),
        "missing_date": dataclasses.replace(good, published_at=None),
        "bad_date": dataclasses.replace(good, published_at="+0800"),
        "body_too_large": dataclasses.replace(good, body_html="<p>" + "长" * 2000 + "</p>"),
    }
    for reason, item in cases.items():
        with pytest.raises(Rejected) as caught:
            validate.process_item(item)
        assert caught.value.reason == reason


@pytest.mark.parametrize("body", [
    "<div>甲</div>乙", "<center>甲</center><section>乙<h1>丙</h1></section>", "<p>甲<br>乙</p><ul><li>丙</li></ul>",
    "<p><span>甲</span><font>乙</font></p><table><tr><td>丙</td><td>丁</td></tr></table>",
])
def test_sanitizing_keeps_paragraph_boundaries(body):
    once = normalize_article(Article(body_html=body))
    assert normalize_article(once) == once
    assert once.body_text.count("\n\n") >= 1


def test_a_paragraph_over_ten_megabytes_is_kept_for_the_body_cap_to_judge():
    """libxml2 drops a text node over 10,000,000 bytes unless told otherwise: a 20 MB body became a short one
    and was archived as if nothing had been there, instead of being rejected as too large."""
    source = (FIXTURE_POSTS / "old_post" / "2022-04-01-NW202204012331570959.md").read_text(encoding="utf-8")
    huge = source + "\n\n" + "长" * 3_400_000 + "\n"  # 10.2 MB of UTF-8 in one paragraph
    article = normalize_article(article_from_source(read_source(huge.encode(), "2022-04-01-NW202204012331570959.md")))
    assert len(article.body_text) > 3_400_000


def _linked_in_source(text: str) -> set[tuple[str, int]]:
    """What a post's source links to quote pages, read with a plain pattern (not the parser's code), K-line
    widgets (``EmImageRemark`` anchors, kept in ``stocks``) left out."""
    import re  # noqa: PLC0415

    linked = set()
    for anchor in re.findall(r"<a\b[^>]*>", text):
        if "EmImageRemark" in anchor:
            continue
        href = re.search(r"unify/r/(\d+)\.([A-Za-z0-9]+)", anchor)
        if href:
            linked.add((href[2], int(href[1])))
    return linked


@pytest.mark.parametrize("path", sorted(FIXTURE_POSTS.rglob("*.md")), ids=lambda p: p.name)
def test_every_stock_a_post_links_is_in_its_article(path: Path):
    """`stocks` listed only the K-line widgets: a real post linking 40 stocks listed one. `linked_stocks` has
    every quote link of the text, once, with its market and the name the link shows."""
    article = normalize_article(article_from_source(read_source(path.read_bytes(), path.name)))
    expected = _linked_in_source(path.read_text(encoding="utf-8"))
    found = [(stock["code"], stock["market"]) for stock in article.linked_stocks]
    assert len(found) == len(set(found)) and set(found) == expected, (sorted(expected - set(found)),
                                                                      sorted(set(found) - expected))
    assert all(stock["name"] for stock in article.linked_stocks)


def test_the_post_that_links_forty_stocks():
    path = FIXTURE_POSTS / "_posts" / "2022-05-31-202205312398034850.md"
    article = normalize_article(article_from_source(read_source(path.read_bytes(), path.name)))
    assert len(article.linked_stocks) == 40 and len(article.stocks) <= 1
    assert {"code": "300115", "market": 0, "name": "长盈精密"} in article.linked_stocks
    assert {"code": "BK1037", "market": 90, "name": "消费电子"} in article.linked_stocks
