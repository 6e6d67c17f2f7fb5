"""Every oddity MANIFEST.tsv lists, checked on the real file it was seen in.

A note without a check fails the test, so a new oddity in the corpus cannot
slip through untested.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import FIXTURE_POSTS

from finews.normalize import normalize_article
from finews.parsing.body import split_body
from finews.parsing.source import article_from_source, read_source, render_markdown
from finews.parsing.urls import category_url
from finews.pipelines.validate import ValidatePipeline
from finews.rejects import Rejected
from finews.replica.site import Site

MANIFEST = Path(__file__).parent / "fixtures" / "MANIFEST.tsv"
ROWS = list(csv.DictReader(MANIFEST.open(encoding="utf-8"), delimiter="\t"))


def _fixture(repo_path: str) -> Path:
    return FIXTURE_POSTS / repo_path


class Case:
    def __init__(self, row: dict) -> None:
        self.row = row
        self.path = _fixture(row["repo_path"])
        self.raw = self.path.read_bytes()
        self.source = read_source(self.raw, row["repo_path"])
        self.article = normalize_article(article_from_source(self.source, "https://finews.withounder.com"))
        self.body = split_body(render_markdown(self.source.body))

    def rejection(self) -> str | None:
        try:
            ValidatePipeline(max_body_chars=1_000_000).process_item(self.article)
        except Rejected as exc:
            return exc.reason
        return None

    def twin(self, folder: str) -> Case:
        return Case({**self.row, "repo_path": f"{folder}/{self.path.name}"})


def _raw_date(case: Case) -> str:
    return str(case.source.front.get("date", ""))


def check(note: str, case: Case) -> None:  # noqa: PLR0915 - one branch per oddity, on purpose
    a, text, html = case.article, case.article.body_text or "", case.article.body_html or ""
    if note in ("no trailing newline", "no trailing newline)"):
        assert not case.raw.endswith(b"\n")
        assert case.source.front  # read all the same
    elif note == "digest-only body (no HTML)":
        assert "\n\n" not in text and a.summary is None and text
    elif m := re.fullmatch(r"share link host: (.+)", note):
        assert urlsplit(a.share_url or a.origin_url).hostname == m[1]
        assert a.info_code and a.info_code.startswith("NW")
    elif note == "date without timezone offset":
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", _raw_date(case))
        assert a.published_at == _raw_date(case).replace(" ", "T") + "+08:00"
        # ... while the site shows it 8 hours later (Jekyll reads it as UTC).
        assert case.source.site_date != a.published_at
    elif note.startswith(("back links on", "relative back links", "back links to old domain")):
        assert "返回" not in text and "返回" not in html
        assert case.body.category_slugs == [case.row["category"]]
    elif note == "no back links":
        assert "返回" not in case.raw.decode("utf-8")
    elif note.startswith("full-width colon"):
        assert "：" in a.title and a.title == case.source.front["title"]
    elif note.startswith("full-width quotes"):
        assert "“" in a.title and '"' not in a.title
    elif note == "title ends with 。":
        assert a.title.endswith("。")
    elif m := re.fullmatch(r"same item also in (_posts|old_post)/ \(different version of the text\)", note):
        twin = case.twin(m[1])
        assert twin.article.info_code == a.info_code and twin.raw != case.raw
    elif note == "stray spaces in body text":
        # a run of spaces, or a space after CJK punctuation (full-width text needs none)
        assert re.search(r"  |[\u3000-\u303f\uff00-\uffef] ", case.source.body), case.path.name
        assert "  " not in text and text == text.strip()
    elif note == "> digest blockquote":
        assert a.summary and "<blockquote>" not in html and len(text) > len(a.summary)
    elif m := re.fullmatch(r"long body \((\d+) chars\)", note):
        assert len(text) > 1000
    elif m := re.fullmatch(r"EM_StockImg stock chart widget x(\d+)", note):
        assert len(a.stocks) == int(m[1])
        assert "EmImageRemark" not in html and "webquoteklinepic" not in html and "display:none" not in html
    elif note == "inline images (<center><img>)":
        assert a.images and all(u.startswith("https://") for u in a.images) and "<center>" not in html
    elif note == "empty share link <>":
        assert "<>" in case.raw.decode("utf-8") and "<>" not in text and "&lt;&gt;" not in html
    elif note == "does not start with ---: leading blank line before front matter":
        assert "leading_blank_lines" in case.source.problems and not case.source.front_matter_at_start
        assert a.title and a.published_at
    elif note == "HTML entities in body":
        assert re.search(r"&[a-z]+;|&#\d+;", case.source.body)
        assert not re.search(r"&[a-z]+;|&#\d+;", text)
    elif note == "empty title":
        assert a.title == "" and case.rejection() == "missing_title"
    elif note == "empty date in file name":
        assert case.source.file_date is None
    elif note == 'empty date (date: "+0800" only)':
        assert case.source.date is None and "empty_or_bad_date" in case.source.problems
    elif note.startswith(("same item also saved as", "dated twin of")):
        other = re.search(r"_posts/(\S+\.md)", note)[1]
        assert Case({**case.row, "repo_path": f"_posts/{other}"}).article.info_code == a.info_code
    elif note.startswith("CRLF inside HTML body"):
        assert b"\r\n" in case.raw and "crlf" in case.source.problems and "\r" not in text
    elif note.startswith("CR characters restored"):
        assert case.raw.count(b"\r") == int(re.search(r"\((\d+)\)", case.row["notes"])[1])
    elif note == "no share link":
        assert a.share_url is None and a.origin_url is None and case.rejection() == "missing_info_code"
    elif note == "category page (front matter only: layout/title/category":
        assert case.source.front["layout"] == "category" and case.source.front["category"] == case.row["category"]
    elif note == "no tags key":
        assert "tags" not in case.source.front
    elif m := re.fullmatch(r"title: (.+)", note):
        assert case.source.front["title"] == m[1]
    elif note.startswith("title is a Chinese media name"):
        assert case.source.front["title"] != case.row["category"].title()
    elif note.startswith("title is the slug title-cased"):
        assert case.source.front["title"] == case.row["category"].title()
    elif m := re.fullmatch(r"slug differs only by case from (\S+)", note):
        assert (FIXTURE_POSTS / "category" / f"{m[1]}.html").exists() and m[1] != case.row["category"]
        assert m[1].lower() == case.row["category"].lower()
    elif note in ("space(s) in category slug and file name", "parentheses in category slug and file name"):
        url = category_url("http://h/", case.row["category"])
        assert " " not in url and urlsplit(url).path.startswith("/category/")
        assert case.row["category"] in Site(FIXTURE_POSTS).category_pages
    elif note == "category of posts in this corpus":
        assert any(
            f"categories: {case.row['category']}\n" in p.read_text(encoding="utf-8")
            for p in FIXTURE_POSTS.glob("*/*.md")
        )
    else:
        pytest.fail(f"no check for MANIFEST note {note!r}")


@pytest.mark.parametrize("row", ROWS, ids=[r["file"] for r in ROWS])
def test_manifest_row(row):
    case = Case(row)
    notes = [n.strip() for n in row["notes"].split(";") if n.strip()]
    assert notes
    for note in notes:
        check(note, case)
