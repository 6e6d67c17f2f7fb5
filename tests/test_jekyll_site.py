"""The crawl against a site built by real Jekyll, so the parser cannot lean on the replica's quirks.

The Jekyll site's layouts (tests/jekyll_site) are written from SITE.md in Liquid,
independently of the replica's Python templates; kramdown renders the bodies.
CI installs Debian's jekyll; without it these tests are skipped, except on CI where
that is a failure.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import FIXTURE_POSTS, ROOT, run_crawl
from test_crawl import FIELDS, _expected

JEKYLL = shutil.which("jekyll")
if JEKYLL is None and os.environ.get("CI"):
    raise RuntimeError("CI must install jekyll (Debian package) for tests/test_jekyll_site.py")
pytestmark = [pytest.mark.jekyll, pytest.mark.skipif(JEKYLL is None, reason="jekyll is not installed")]


def build_site(workdir: Path, layout: str) -> Path:
    source = workdir / "src"
    shutil.copytree(ROOT / "tests" / "jekyll_site", source)
    if layout == "old":
        shutil.copy(source / "_layouts" / "default_old.html", source / "_layouts" / "default.html")
    posts = source / "_posts"
    shutil.copytree(FIXTURE_POSTS / "_posts", posts)
    for old in (FIXTURE_POSTS / "old_post").glob("*.md"):
        if not (posts / old.name).exists():
            shutil.copy(old, posts / old.name)
    shutil.copytree(FIXTURE_POSTS / "category", source / "category")
    site = workdir / "site"
    subprocess.run([JEKYLL, "build", "--quiet", "-s", str(source), "-d", str(site)], check=True, timeout=300,
                   capture_output=True)
    return site


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass


@pytest.fixture(scope="module", params=["new", "old"])
def jekyll_site(request, tmp_path_factory):
    site = build_site(tmp_path_factory.mktemp(f"jekyll-{request.param}"), request.param)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", site
    server.shutdown()
    server.server_close()


def test_jekyll_site_crawl_matches_the_sources(jekyll_site, tmp_path):
    url, _ = jekyll_site
    result = run_crawl(url, tmp_path)
    assert result.returncode == 0, result.log[-3000:]
    assert {i["info_code"]: {f: i[f] for f in FIELDS} for i in result.posts()} == _expected()


def test_jekyll_and_replica_pages_give_the_same_articles(jekyll_site, fixture_crawl, tmp_path):
    url, _ = jekyll_site
    result = run_crawl(url, tmp_path)
    drop = ("url", "fetched_at", "capture")
    jekyll = {c: {k: v for k, v in i.items() if k not in drop} for c, i in result.by_code().items()}
    replica = {c: {k: v for k, v in i.items() if k not in drop} for c, i in fixture_crawl.by_code().items()}
    assert jekyll == replica


def test_jekyll_shows_offsetless_dates_eight_hours_late(jekyll_site):
    # The fact the oracle and the replica encode: `date: 2021-12-08 10:46:18` is read as UTC.
    _, site = jekyll_site
    page = (site / "emnews/2021/12/08/202112082206672930.html").read_text(encoding="utf-8")
    assert "(GMT+8, Asia/Shanghai, CST) 2021-12-08 18:46:18" in page
