"""Share pages: the JSON endpoint first, a real Splash server when it fails, and failure marks."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from urllib.request import urlopen

import pytest
from conftest import FIXTURE_POSTS, ROOT, CrawlResult, run_crawl

from finews import outcome
from finews.codes import canonical_info_code
from finews.normalize import normalize_article
from finews.parsing.share import ShareError, parse_share_json, parse_share_page
from finews.replica import Replica, generate_posts
from finews.storage.archive import Archive

CODE = "NW202204012331570959"
DIGEST = "NW202112082206672930"  # an early emnews post: its page has only the digest


# As the site's generator reads them: json.loads(answer)['text'] from finews.zning.xyz (media posts),
# json.loads(answer)['content'] from choicewzp1.eastmoney.com (emnews posts).
TEXT = "\u3000\u3000第一段&ldquo;引号&rdquo;&amp;符号<br>\u3000\u3000第二段<BR/>"


@pytest.mark.parametrize("key", ["text", "content"])
def test_api_answer_of_the_generators_shape(key):
    raw = parse_share_json(json.dumps({key: TEXT}, ensure_ascii=False).encode(), CODE)
    article = normalize_article(raw)
    assert article.body_text == "第一段“引号”&符号\n\n第二段"
    assert "\u3000" not in article.body_html and article.body_html.count("<p>") == 2
    assert (article.info_code, article.via) == (CODE, "share_api")
    assert (raw.title, raw.published_at, raw.source) == (None, None, None)  # the answer has none of them


def test_fields_an_answer_carries_are_read():
    answer = {"content": TEXT, "id": CODE.removeprefix("NW"), "title": "标题", "showTime": "2022-04-01 23:13:43",
              "mediaName": "证券时报"}
    article = normalize_article(parse_share_json(json.dumps(answer).encode(), CODE))
    assert (article.title, article.published_at, article.source) == ("标题", "2022-04-01T23:13:43+08:00", "证券时报")


@pytest.mark.parametrize(("body", "reason"), [
    ('{"text": ""}', "api_no_article"),  # an empty string is no article text
    ('{"content": "\u3000\u3000<br>\u3000 "}', "api_empty_text"),
    ('{"success": false, "message": "文章不存在"}', "api_no_article"),
    ('{"error": "not found"}', "api_no_article"),
    ("<!DOCTYPE html><html><body><h1>系统繁忙</h1></body></html>", "api_html_page"),
    ("null", "api_not_an_object"),
    ("[1, 2]", "api_not_an_object"),
    ('"text"', "api_not_an_object"),
    ('{"text": "\u3000\u3000', "api_invalid_json"),
    ("", "api_invalid_json"),
    ('{"text": "x", "id": "NW1"}', "api_wrong_id"),
    ('{"text": ["x"]}', "api_no_article"),
])
def test_api_answers_that_are_not_an_article(body, reason):
    with pytest.raises(ShareError) as caught:
        parse_share_json(body.encode(), CODE)
    assert caught.value.reason == reason


def test_error_messages_travel_with_the_reason():
    with pytest.raises(ShareError) as caught:
        parse_share_json('{"success": false, "message": "文章不存在"}'.encode(), CODE)
    assert caught.value.detail == "文章不存在"
    with pytest.raises(ShareError) as caught:
        parse_share_json("<html><body><h1>系统繁忙</h1></body></html>".encode(), CODE)
    assert caught.value.detail == "系统繁忙"


def test_share_spider_reads_both_hosts_answers_through_the_api(mongo, tmp_path):
    """The replica answers `text` for half the codes and `content` for the other half, nothing else; the
    answer has no title or date, which come from the archived post."""
    paths = generate_posts(tmp_path / "posts", 6)
    codes = [canonical_info_code(path.stem.split("-", 3)[3]) for path in paths]
    database = mongo.new_database()
    with Replica(tmp_path / "posts") as server:
        keys = {code: list(json.loads(urlopen(f"{server.url}NewsData/GetNewsText.do?id={code}").read()))
                for code in codes}
        posts = run_crawl(server.url, tmp_path / "posts-crawl", "-a", "share=0", mongo=mongo, database=database)
        result = run_crawl(server.url, tmp_path / "crawl", "-a", f"codes={','.join(codes)}", spider="share",
                           mongo=mongo, database=database)
    assert sorted(map(tuple, keys.values())) == [("content",)] * 3 + [("text",)] * 3
    assert posts.returncode == 0 and result.returncode == 0, result.log[-2000:]
    by_code = {item["info_code"]: item for item in result.items}
    assert sorted(by_code) == sorted(codes)
    for item in result.items:
        assert item["via"] == "share_api" and item["share_status"] == "ok"
        assert item["body_text"].count("\n\n") >= 1 and "\u3000" not in item["body_html"]
        assert item["title"] and item["published_at"].endswith("+08:00")
    assert result.stat("finews/share/ok/api") == 6
    assert result.stat("finews/share/ok/render") == 0
    stored = mongo.db(database).articles
    assert stored.count_documents({"share_status": "ok", "seen_via": "share_api"}) == 6


def test_rendered_page_without_article_is_an_error():
    with pytest.raises(ShareError) as caught:
        parse_share_page('<div id="ContentBody"></div>', CODE)
    assert caught.value.reason == "render_no_article"


def test_crawl_reads_share_pages_through_the_api(replica, mongo, tmp_path):
    result = run_crawl(replica.url, tmp_path, mongo=mongo)
    assert result.stat("finews/share/ok/api") == 1
    stored = mongo.db(result.database).articles.find_one({"_id": CODE})
    assert stored["share_status"] == "ok" and "share_api" in stored["seen_via"]
    # The post's own share link stays (the request went to the replica, FINEWS_SHARE_BASE_URL).
    assert stored["share_url"] == f"http://finews.zning.xyz/html_News/NewsShare.html?infoCode={CODE}"


def test_without_splash_a_broken_api_marks_the_article_failed(mongo, tmp_path):
    with Replica(FIXTURE_POSTS) as server:
        server.api_faults = {CODE: "invalid_json"}
        result = run_crawl(server.url, tmp_path, mongo=mongo)
    db = mongo.db(result.database)
    stored = db.articles.find_one({"_id": CODE})
    assert stored["share_status"] == "failed" and stored["share_error"].startswith("api_invalid_json")
    assert stored["body_text"]  # the post itself is archived all the same
    assert db.rejects.find_one({"reason": "share_api_invalid_json"})["raw"] == {"info_code": CODE}


def test_digest_becomes_full_after_its_share_page_and_keeps_the_longer_body(replica, mongo, tmp_path):
    database = mongo.new_database()
    run_crawl(replica.url, tmp_path / "crawl", mongo=mongo, database=database)
    articles = mongo.db(database).articles
    before = articles.find_one({"_id": DIGEST})
    assert before["body_kind"] == "digest"
    assert DIGEST in {code for code, _, _ in _missing(mongo, database)}
    share = run_crawl(replica.url, tmp_path / "share", "-a", "missing=1", spider="share", mongo=mongo,
                      database=database)
    assert share.returncode == 0 and share.stat("finews/articles/revised") >= 1
    after = articles.find_one({"_id": DIGEST})
    assert after["body_kind"] == "full" and after["via"] == "share_api" and after["share_status"] == "ok"
    assert len(after["body_text"]) > len(before["body_text"])
    assert after["revisions"][0]["body_text"] == before["body_text"]
    assert DIGEST not in {code for code, _, _ in _missing(mongo, database)}
    # The post page again (a refresh) keeps the fuller body.
    run_crawl(replica.url, tmp_path / "again", "-a", "refresh=1", "-a", "share=0", mongo=mongo, database=database)
    assert articles.find_one({"_id": DIGEST})["body_text"] == after["body_text"]


def _missing(mongo, database):
    archive = Archive(mongo.uri, database)
    archive.client = mongo.client
    return archive.missing_share()


def test_share_spider_needs_something_to_do(replica, tmp_path):
    result = run_crawl(replica.url, tmp_path, spider="share")
    assert "give -a codes=" in result.log


# -- with a real Splash server ----------------------------------------------------------------------------


def test_broken_api_falls_back_to_splash(splash, mongo, tmp_path):
    with Replica(FIXTURE_POSTS) as server:
        server.api_faults = {CODE: "status_500"}
        result = run_crawl(server.url, tmp_path, "-s", f"SPLASH_URL={splash.url}", mongo=mongo)
        assert server.count("share") == 1  # Splash loaded the share page from the replica
    assert result.stat("finews/share/ok/render") == 1, result.log[-2000:]
    stored = mongo.db(result.database).articles.find_one({"_id": CODE})
    # The rendered article has the post page's text: the same content, now confirmed by the share page.
    assert stored["share_status"] == "ok" and "share_render" in stored["seen_via"]
    assert stored["body_text"].startswith("北京银行从成立之初就秉承")
    # The render is captured as a resource record named by the share page it rendered (docs/operations.md).
    from test_captures import index, warc_files  # noqa: PLC0415

    renders = [r for r in index(warc_files(tmp_path / "data")) if r["warc-type"] == "resource"
               and f"NewsShare.html?infoCode={CODE}" in r["warc-target-uri"]]
    assert len(renders) == 1


def test_splash_stopped_mid_crawl_then_missing_completes(splash, mongo, tmp_path):
    posts = tmp_path / "posts"
    generate_posts(posts, 90)
    database = mongo.new_database()
    articles = mongo.db(database).articles
    settings = ["-s", f"SPLASH_URL={splash.url}", "-s", "FINEWS_SPLASH_RETRY_BACKOFF=0.1",
                "-s", "FINEWS_SPLASH_BREAKER_SECONDS=600", "-s", "CONCURRENT_REQUESTS=2", "-a", "share=1",
                "-s", f"LOG_FILE={tmp_path / 'crawl.log'}"]
    with Replica(posts, latency=0.05) as server:
        server.api_faults = {"*": "status_500"}  # every share page needs Splash
        crawl = subprocess.Popen(_command(server.url, mongo.uri, database, tmp_path / "data", *settings), cwd=ROOT,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while articles.count_documents({"share_status": "ok"}) < 3:
            assert time.monotonic() < deadline and crawl.poll() is None
            time.sleep(0.1)
        splash.stop()
        # The run ends normally: the breaker stops sending to the dead Splash, the articles are marked.
        assert crawl.wait(timeout=300) in (outcome.OK, outcome.MONITORS_FAILED)
        stats = CrawlResult(0, [], [], (tmp_path / "crawl.log").read_text(encoding="utf-8"))
        assert stats.stat("finews/splash/circuit_opened") == 1  # once: its cooldown outlasts the run
        assert stats.stat("finews/splash/circuit_skipped") > 0  # the rest never reached the dead Splash
        assert articles.count_documents({}) == 90  # every post archived all the same
        failed = articles.count_documents({"share_status": "failed"})
        assert failed > 0
        splash.start()
        server.api_faults = {}
        later = run_crawl(server.url, tmp_path / "missing", "-a", "missing=1", "-s", f"SPLASH_URL={splash.url}",
                          spider="share", mongo=mongo, database=database)
    assert later.returncode == 0
    media = {"_id": {"$regex": "^NW"}, "share_url": {"$ne": None}}
    assert articles.count_documents({**media, "share_status": {"$ne": "ok"}}) == 0
    assert articles.count_documents({"share_status": "failed"}) == 0


def _command(base_url, uri, database, data, *extra):
    return [sys.executable, "-m", "scrapy", "crawl", "finews", "-a", f"base_url={base_url}",
            "-s", f"MONGO_URI={uri}", "-s", f"FINEWS_MONGO_DATABASE={database}", "-s", f"FINEWS_DATA_DIR={data}",
            "-s", f"FINEWS_SHARE_BASE_URL={base_url}", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "TELNETCONSOLE_ENABLED=0",
            "-s", "FINEWS_MONGO_FLUSH_SECONDS=0.3", *extra]


def test_codes_file_takes_codes_and_exported_articles(tmp_path):
    from finews.spiders.share import ShareSpider  # noqa: PLC0415

    codes_file = tmp_path / "codes.txt"
    codes_file.write_text("# a comment\nNW202204012331570001\n{not json\nnot a code\n" + json.dumps(
        {"info_code": CODE, "share_url": "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=" + CODE,
         "title": "标题", "published_at": "2022-04-01T23:13:43+08:00", "body_text": "…"}, ensure_ascii=False) + "\n",
        encoding="utf-8")
    spider = ShareSpider(codes="NW2", codes_file=str(codes_file))
    # A line that is neither a code nor a JSON article is kept for a reject (bad_codes_line), not a traceback.
    assert spider.bad_lines == ["{not json", "not a code"]
    assert spider.targets == [
        ("NW2", None, {}), ("NW202204012331570001", None, {}),
        (CODE, "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=" + CODE,
         {"title": "标题", "published_at": "2022-04-01T23:13:43+08:00"}),
    ]
