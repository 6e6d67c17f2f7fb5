"""`scrapy crawl finews` against the local replica of the fixture corpus."""

from __future__ import annotations

import shutil
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from conftest import FIXTURE_POSTS, run_crawl
from oracle import published_posts, reachable_posts

from finews.replica import Replica, generate_posts

FIELDS = ("info_code", "title", "published_at", "category")


def _expected() -> dict[str, dict]:
    return {
        p.info_code: {
            "info_code": p.info_code, "title": p.title, "published_at": p.published_at, "category": p.category,
        }
        for p in reachable_posts()
        if p.info_code
    }


def test_one_item_per_reachable_post_matching_the_sources(fixture_crawl):
    assert fixture_crawl.returncode == 0, fixture_crawl.log[-3000:]
    codes = [item["info_code"] for item in fixture_crawl.items if item["via"] == "post_page"]
    assert len(codes) == len(set(codes)), "one item per post"
    expected = _expected()
    assert len(expected) == 119
    assert {i["info_code"]: {f: i[f] for f in FIELDS} for i in fixture_crawl.posts()} == expected


def test_unreachable_posts_are_the_ones_the_site_does_not_link(fixture_crawl):
    # init (sitenews, the oldest post) is on no listing; the two files with a blank line before their
    # front matter render without layout at category-less permalinks that nothing links to.
    reached = {PurePosixPath(urlsplit(url).path).stem
               for url in [i["url"] for i in fixture_crawl.posts()] + [r["url"] for r in fixture_crawl.rejects]}
    assert sorted(p.name for p in published_posts() if p.name not in reached) == [
        "202112082206703990", "202112082206799679", "init",
    ]


def test_items_carry_the_article_record(fixture_crawl):
    item = fixture_crawl.by_code()["NW202204012331570959"]
    assert item["source"] == "华夏时报"
    assert item["share_url"] == "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202204012331570959"
    assert item["stocks"] == [{"code": "601169", "market": 1}]
    assert item["url"].endswith("/huaxiashibao/2022/04/01/NW202204012331570959.html")
    assert "返回" not in item["body_text"] and "NewsShare" not in item["body_html"]
    assert len(item["content_hash"]) == 64
    emnews = fixture_crawl.by_code()["NW202205262391921712"]
    assert emnews["aliases"] == ["202205262391921712"]
    assert emnews["origin_url"] == "http://finance.eastmoney.com/news/1354,202205262391921712.html"
    assert emnews["summary"].startswith("据霍尼韦尔官网消息")
    assert emnews["stocks"] == [{"code": "NIO", "market": 106}]
    assert len(emnews["images"]) == 3


def test_old_layout_gives_the_same_items(replica_old_layout, fixture_crawl, tmp_path):
    old = run_crawl(replica_old_layout.url, tmp_path)
    assert old.returncode == 0
    strip = ("url", "fetched_at", "capture")
    new_items = {c: {k: v for k, v in i.items() if k not in strip} for c, i in fixture_crawl.by_code().items()}
    old_items = {c: {k: v for k, v in i.items() if k not in strip} for c, i in old.by_code().items()}
    assert old_items == new_items


def test_categories_argument_restricts_the_crawl(replica, tmp_path):
    result = run_crawl(replica.url, tmp_path, "-a", "categories=huaxiashibao")
    assert [item["info_code"] for item in result.posts()] == ["NW202204012331570959"]


def test_broken_posts_become_rejects_with_reasons(tmp_path, mongo):
    posts = tmp_path / "posts"
    shutil.copytree(FIXTURE_POSTS, posts)
    (posts / "_posts" / "2022-06-01-202206019999999999.md").write_text(
        '---\nlayout: post\ntitle: ""\ndate: 2022-06-01 10:00:00 +0800\ncategories: emnews\ntags: 东财滚动新闻\n---\n'
        "正文\n\n<http://finance.eastmoney.com/news/1353,202206019999999999.html>",
        encoding="utf-8",
    )
    (posts / "_posts" / "2022-06-01-notanid.md").write_text(
        '---\nlayout: post\ntitle: "没有编号的消息"\ndate: 2022-06-01 09:00:00 +0800\ncategories: emnews\n'
        "tags: 东财滚动新闻\n---\n正文",
        encoding="utf-8",
    )
    with Replica(posts) as server:
        result = run_crawl(server.url, tmp_path / "out", mongo=mongo)
    reasons = sorted(r["reason"] for r in result.rejects)
    assert reasons == ["missing_info_code", "missing_title"]
    assert result.stat("finews/dropped/missing_title") == 1
    assert result.stat("finews/dropped/missing_info_code") == 1
    rejected = {r["reason"]: r for r in result.rejects}
    # The record keeps the raw input as the spider yielded it; the detail names the article.
    assert rejected["missing_title"]["detail"] == "NW202206019999999999"
    assert "正文" in rejected["missing_title"]["raw"]["body_html"]
    assert rejected["missing_info_code"]["url"].endswith("/emnews/2022/06/01/notanid.html")
    assert len(result.posts()) == 119
    assert {"time", "spider", "reason", "detail", "url", "raw"} <= set(result.rejects[0])


def test_server_errors_are_retried_and_failures_kept(tmp_path):
    posts = tmp_path / "posts"
    generate_posts(posts, 60)
    with Replica(posts, error_rate=0.3, seed=3) as server:
        result = run_crawl(server.url, tmp_path / "out", "-s", "RETRY_TIMES=10", "-a", "share=0")
        assert server.count("post", 503) > 0
    assert len(result.items) == 60
    assert result.rejects == []


def test_pages_failing_for_good_are_recorded(tmp_path):
    posts = tmp_path / "posts"
    generate_posts(posts, 5)
    # Every body is cut short: the home page itself fails, after its retries, and is recorded.
    with Replica(posts, truncate_rate=1.0) as server:
        result = run_crawl(server.url, tmp_path / "out", "-s", "RETRY_TIMES=1")
    assert result.items == []
    assert {r["reason"] for r in result.rejects} == {"fetch_failed"}
    assert server.url in {r["url"] for r in result.rejects}
    assert result.stat("finews/dropped/fetch_failed") == len(result.rejects) > 0
