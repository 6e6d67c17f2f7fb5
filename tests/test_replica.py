"""The local replica: pages, conditional requests, the share page and its JSON, fault knobs."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from urllib.parse import unquote, urlsplit

import pytest

from finews.parsing.listing import page_links
from finews.parsing.share import ShareError, parse_share_json
from finews.parsing.urls import category_url
from finews.replica import Replica, generate_posts
from finews.replica.site import HOME_LIMIT


def get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_home_page_lists_the_newest_hundred(replica):
    status, _, body = get(replica.url)
    assert status == 200
    html = body.decode()
    assert '<h2 id="最近100条新消息">最近100条新消息</h2>' in html
    assert html.count("<li><a href=") == HOME_LIMIT
    first = replica.site.posts[0]
    assert f'<li><a href="{first.path}">{first.title}</a></li>' in html


def test_category_pages_with_odd_slugs(replica):
    for slug in ("anxinguojizhengquan(xianggang)", "21shijijingjibaodao  nancailicaitong", "TechWeb", "Techweb"):
        status, _, _ = get(category_url(replica.url, slug))
        assert status == 200, slug
    status, _, body = get(category_url(replica.url, "huaxiashibao"))
    assert "NW202204012331570959" in body.decode()
    assert get(replica.url + "category/nosuch.html")[0] == 404


def test_post_page_structure(replica):
    status, headers, body = get(replica.url + "huaxiashibao/2022/04/01/NW202204012331570959.html")
    html = body.decode()
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "<small>(GMT+8, Asia/Shanghai, CST) 2022-04-01 23:13:43</small>\n<h1>北京银行" in html
    assert "<small>tags: <em>华夏时报新闻</em></small>" in html
    assert '<p><a href="http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202204012331570959">' in html


def test_not_found_page(replica):
    status, _, body = get(replica.url + "emnews/")  # the old back-link form
    assert status == 404 and "404 找不到页面 Page Not Found" in body.decode()


def test_feed_has_the_newest_ten_with_content(replica):
    status, headers, body = get(replica.url + "feed.xml")
    assert status == 200 and "atom" in headers["Content-Type"]
    assert body.count(b"<entry>") == 10 and b"&lt;p&gt;" in body


def test_conditional_requests(replica):
    url = replica.url + "category/emnews.html"
    _, headers, _ = get(url)
    assert get(url, {"If-None-Match": headers["ETag"]})[0] == 304
    assert get(url, {"If-Modified-Since": headers["Last-Modified"]})[0] == 304
    assert get(url, {"If-None-Match": '"other"'})[0] == 200
    assert get(url, {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})[0] == 200


def test_share_page_is_an_empty_shell(replica):
    status, _, body = get(replica.url + "html_News/NewsShare.html?infoCode=NW202204012331570959")
    html = body.decode()
    assert status == 200 and "XMLHttpRequest" in html and "/NewsData/GetNewsText.do?id=" in html
    assert "北京银行" not in html and "fetch(" not in html


def test_share_json_text_and_content_keys(replica):
    """The generator's shape: one top-level `text` or `content`, nothing else."""
    status, _, body = get(replica.url + "NewsData/GetNewsText.do?id=NW202204012331570959")
    data = json.loads(body)
    assert status == 200 and list(data) == ["content"]
    assert data["content"].startswith("\u3000\u3000北京银行") and "<br>" in data["content"]
    keys = set()
    for code in ("NW202112082206703990", "NW202112082206672930", "NW202112082206710723"):
        answer = json.loads(get(replica.url + f"NewsData/GetNewsText.do?id={code}")[2])
        assert len(answer) == 1
        keys |= set(answer)
    assert keys == {"text", "content"}


def test_share_json_unknown_id(replica):
    status, headers, body = get(replica.url + "NewsData/GetNewsText.do?id=NW000")
    assert status == 404 and headers["Content-Type"].startswith("application/json")
    assert json.loads(body) == {"success": False, "code": 404, "message": "no article with id 'NW000'"}


@pytest.mark.parametrize("fault", ["status_500", "invalid_json", "empty", "wrong_id", "error_object", "html_200",
                                   "null", "empty_text"])
def test_share_json_faults(replica, fault):
    replica.api_faults = {"NW202204012331570959": fault}
    try:
        status, _, body = get(replica.url + "NewsData/GetNewsText.do?id=NW202204012331570959")
    finally:
        replica.api_faults = {}
    if fault == "status_500":
        assert status == 500
        return
    with pytest.raises(ShareError) as caught:  # each answer is told from an article, with its own reason
        parse_share_json(body, "NW202204012331570959")
    assert caught.value.reason == {
        "invalid_json": "api_invalid_json", "empty": "api_invalid_json", "wrong_id": "api_wrong_id",
        "error_object": "api_no_article", "html_200": "api_html_page", "null": "api_not_an_object",
        "empty_text": "api_empty_text"}[fault]


def test_knobs_latency_errors_truncation(tmp_path):
    generate_posts(tmp_path, 3)
    with Replica(tmp_path, latency=0.2) as server:
        started = time.monotonic()
        get(server.url)
        assert time.monotonic() - started >= 0.2
    with Replica(tmp_path, error_rate=1.0) as server:
        assert get(server.url)[0] == 503
    with Replica(tmp_path, truncate_rate=1.0) as server:
        parts = urlsplit(server.url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        connection.request("GET", "/")
        response = connection.getresponse()
        with pytest.raises(http.client.IncompleteRead):
            response.read()


def test_generated_posts_are_all_reachable(tmp_path):
    generate_posts(tmp_path, 300)
    with Replica(tmp_path) as server:
        assert len(server.site.posts) == 300
        home = page_links(server.site.page("/").body, server.url)
        assert len([u for u in home if "/20" in u]) == HOME_LIMIT
        listed = {u for slug in server.site.category_pages
                  for u in page_links(server.site.page(f"/category/{slug}.html").body, server.url)}
        assert {server.url.rstrip("/") + p.path for p in server.site.posts} <= listed


def test_reload_sees_edits(tmp_path):
    paths = generate_posts(tmp_path, 3)
    with Replica(tmp_path) as server:
        post = server.site.posts[0]
        before = server.site.page(unquote(post.path)).etag
        target = next(p for p in paths if p.name.endswith(post.source.name + ".md"))
        target.write_text(target.read_text(encoding="utf-8") + "\n\n补充一段。", encoding="utf-8")
        server.site.reload()
        assert server.site.page(unquote(post.path)).etag != before
