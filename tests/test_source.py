"""The lenient post-source reader on the breakages real files have."""

from __future__ import annotations

import pytest

from finews.parsing.source import SourceError, read_source

GOOD = (
    '---\nlayout: post\ntitle: "标题"\ndate: 2022-04-01 23:13:43 +0800\n'
    "categories: emnews\ntags: 东财滚动新闻\n---\n正文"
)


def test_plain_file():
    source = read_source(GOOD.encode(), "2022-04-01-202204012331570959.md")
    assert (source.title, source.date, source.category, source.tags) == (
        "标题", "2022-04-01T23:13:43+08:00", "emnews", ["东财滚动新闻"])
    assert source.name == "202204012331570959" and source.problems == []
    assert source.permalink() == "/emnews/2022/04/01/202204012331570959.html"


def test_bom_crlf_and_leading_blank_lines():
    data = ("\ufeff\r\n\r\n" + GOOD.replace("\n", "\r\n")).encode()
    source = read_source(data, "2022-04-01-x.md")
    assert source.title == "标题" and source.body == "正文"
    assert {"bom", "crlf", "leading_blank_lines"} <= set(source.problems)


def test_unescaped_quotes_in_title_fall_back_to_lines():
    source = read_source(GOOD.replace('"标题"', '"他说"好"的"').encode(), "2022-04-01-x.md")
    assert source.title == '他说"好"的'
    assert any(p.startswith("yaml_error") for p in source.problems)


def test_empty_date_falls_back_to_the_file_name():
    source = read_source(GOOD.replace("2022-04-01 23:13:43 +0800", " +0800").encode(), "2022-03-02-x.md")
    assert source.date == "2022-03-02T00:00:00+08:00" and "empty_or_bad_date" in source.problems


def test_space_separated_categories_become_path_parts():
    source = read_source(GOOD.replace("categories: emnews", "categories: 21shijijingjibaodao 21caijingAPP").encode(),
                         "2022-04-01-NW1.md")
    assert source.category == "21shijijingjibaodao 21caijingAPP"
    assert source.permalink() == "/21shijijingjibaodao/21caijingapp/2022/04/01/NW1.html"


def test_legacy_encoding_is_read():
    source = read_source(GOOD.encode("gb18030"), "2022-04-01-x.md")
    assert source.title == "标题" and "gb18030" in source.problems


@pytest.mark.parametrize(("text", "reason"), [
    ("no front matter at all", "no_front_matter"),
    ("---\ntitle: x\n", "unclosed_front_matter"),
])
def test_unreadable_files_raise_with_a_reason(text, reason):
    with pytest.raises(SourceError) as caught:
        read_source(text.encode(), "2022-04-01-x.md")
    assert caught.value.reason == reason


def test_undecodable_bytes():
    with pytest.raises(SourceError) as caught:
        read_source(b"---\ntitle: \xff\xfe\xfd\x80\x81\n---\n", "2022-04-01-x.md")
    assert caught.value.reason == "bad_encoding"
