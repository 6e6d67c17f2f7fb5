"""Post page parsing on pages saved from real Jekyll builds (both default.html versions) and the replica."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import pytest
from conftest import FIXTURE_POSTS
from oracle import published_posts

from finews.normalize import normalize_article
from finews.parsing.listing import back_link_categories, feed_links, page_links
from finews.parsing.post_page import NotAPostPage, parse_post_page
from finews.replica.site import Site

PAGES = Path(__file__).parent / "fixtures" / "pages"
BASE = "https://finews.withounder.com"


def _page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("layout", ["jekyll-new", "jekyll-old"])
def test_media_post_from_both_layouts(layout):
    url = f"{BASE}/huaxiashibao/2022/04/01/NW202204012331570959.html"
    page = parse_post_page(_page(f"{layout}__huaxiashibao__NW202204012331570959.html"), url)
    assert page.category_links == ["huaxiashibao"]
    raw = page.article
    assert raw.title == "北京银行创新普惠金融转型发展 打造线上普惠服务全新体验"
    assert raw.published_at == "2022-04-01 23:13:43"
    assert raw.tags == ["华夏时报新闻"]
    assert raw.category == "huaxiashibao" and raw.post_name == "NW202204012331570959"
    article = normalize_article(raw)
    assert article.info_code == "NW202204012331570959"
    assert article.published_at == "2022-04-01T23:13:43+08:00"
    assert article.source == "华夏时报"
    assert article.stocks == [{"code": "601169", "market": 1}]
    assert article.body_text.startswith("北京银行从成立之初就秉承")
    assert article.body_text.endswith("（文章来源：华夏时报）")
    for unwanted in ("<script", "style=", "onload", "EmImageRemark", "NewsShare", "返回", "display:none"):
        assert unwanted not in article.body_html
    # Nothing of the layout leaks in: header title, footer, disclaimer.
    assert "金融消息" not in article.body_text and "免责声明" not in article.body_text


def test_old_layout_early_emnews_post():
    page = parse_post_page(_page("jekyll-old__emnews__202112082206735975.html"),
                           f"{BASE}/emnews/2021/12/08/202112082206735975.html")
    assert page.category_links == ["emnews"]  # from the relative ../emnews/ back link
    raw = page.article
    article = normalize_article(raw)
    assert article.info_code == "NW202112082206735975" and article.aliases == ["202112082206735975"]
    assert article.origin_url == "http://finance.eastmoney.com/news/1355,202112082206735975.html"
    assert article.body_text.startswith("记者今天从国家知识产权局")
    assert "\n\n" not in article.body_text
    assert article.source == "东财滚动"


def test_later_emnews_post_digest_widget_images_entities():
    raw = parse_post_page(_page("jekyll-new__emnews__202205262391921712.html"),
                          f"{BASE}/emnews/2022/05/26/202205262391921712.html").article
    article = normalize_article(raw)
    assert article.summary.startswith("据霍尼韦尔官网消息")
    assert article.body_text.startswith("国内首款使用超低GWP")
    assert article.stocks == [{"code": "NIO", "market": 106}]
    assert article.images[0] == "https://dfscdn.dfcfw.com/download/D24676903417074885805_w800h555.jpg"
    assert article.source == "上海证券报"
    assert "&nbsp;" not in article.body_text and "&amp;" not in article.body_text


def test_page_without_layout_is_not_a_post_page():
    with pytest.raises(NotAPostPage):
        parse_post_page(_page("jekyll-new__no-layout__202112082206703990.html"),
                        f"{BASE}/2021/12/08/202112082206703990.html")


@pytest.mark.parametrize("html", ["", "<html><body><h1>404 找不到页面</h1></body></html>", "\x00\xff garbage <<<"])
def test_other_pages_are_not_post_pages(html):
    with pytest.raises(NotAPostPage):
        parse_post_page(html, f"{BASE}/emnews/2022/01/01/x.html")


def test_listing_and_feed_links():
    links = page_links(_page("jekyll-new__index.html"), BASE + "/")
    posts = [u for u in links if u.endswith(".html") and "/20" in u]
    assert len(posts) == 100
    assert links[0] == BASE + "/"  # the header's site link comes first
    entries = feed_links((PAGES / "jekyll-new__feed.xml").read_bytes(), BASE + "/feed.xml")
    assert len(entries) == 10 and all(u.startswith(BASE + "/") for u in entries)
    assert feed_links(b"<not xml", BASE) == []


def test_back_links_name_categories_in_every_form():
    html = (
        '<a href="../emnews/">返回东财滚动新闻</a><a href="./emnews/">返回东财滚动新闻</a>'
        '<a href="//finews.zning.me/emnews/">返回东财滚动新闻</a>'
        '<a href="//finews.withounder.com/category/anxinguojizhengquan(xianggang).html">返回中国商报网新闻</a>'
        '<a href="//finews.withounder.com/category/Career%20In%20touxingPEVC.html">返回</a>'
        '<a href="//finews.withounder.com/">返回首页</a><a href="/assets/">资源</a>'
    )
    assert back_link_categories(html) == ["emnews", "anxinguojizhengquan(xianggang)", "Career In touxingPEVC"]


def test_replica_pages_parse_like_the_sources():
    site = Site(FIXTURE_POSTS)
    expected = {p.name: p for p in published_posts()}
    checked = 0
    for post in site.posts:
        want = expected[post.source.name]
        if not want.has_layout:
            continue
        article = normalize_article(parse_post_page(site.page(unquote(post.path)).body, BASE + post.path).article)
        assert (article.title, article.published_at, article.category) == (want.title, want.published_at, want.category)
        checked += 1
    assert checked == 120
