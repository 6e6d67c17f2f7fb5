"""What a crawl of the fixture corpus must find, worked out from the raw files alone.

Deliberately independent of finews: plain regular expressions over the
source text and Jekyll's rules as observed on a real Jekyll build
(tests/test_jekyll_site.py checks this oracle against one):
- a file whose name has no date is not a post;
- a blank line before the front matter hides it: the post renders with no
  layout (no date line, no title) at /yyyy/mm/dd/<name>.html;
- a front-matter date without offset is read as UTC and shown in UTC+8;
- a _posts/ file wins over an old_post/ file of the same name (the replica's rule).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

CST = timezone(timedelta(hours=8))
FIXTURES = Path(__file__).parent / "fixtures"
POSTS = FIXTURES / "posts"


@dataclass
class Expected:
    path: Path
    name: str
    info_code: str | None
    title: str
    published_at: str | None
    category: str
    back_link_categories: list[str] = field(default_factory=list)
    has_layout: bool = True


def _field(front: str, key: str) -> str:
    match = re.search(rf"^{key}:[ \t]*(.*)$", front, re.MULTILINE)
    value = match.group(1).strip() if match else ""
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def expected_post(path: Path) -> Expected | None:
    text = path.read_bytes().decode("utf-8").replace("\r\n", "\n")
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})-(.+)\.md$", path.name)
    if not match:
        return None
    name = match.group(4)
    has_layout = text.startswith("---\n")
    front = text.split("---\n", 2)[1]
    share = re.search(r"infoCode=([A-Za-z0-9]+)", text)
    origin = re.search(r"eastmoney\.com/news/\d+,(\d{18})\.html", text)
    if share:
        code = share.group(1)
    elif origin:
        code = "NW" + origin.group(1)
    elif re.fullmatch(r"\d{18}", name):
        code = "NW" + name
    else:
        code = None
    raw_date = _field(front, "date")
    date_match = re.fullmatch(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?: \+0800)?", raw_date)
    published = None
    if has_layout and date_match:
        moment = datetime.strptime(date_match.group(1), "%Y-%m-%d %H:%M:%S")
        moment = moment.replace(tzinfo=CST if raw_date.endswith("+0800") else UTC)
        published = moment.astimezone(CST).isoformat()
    if not has_layout:
        published = datetime(int(match.group(1)), int(match.group(2)), int(match.group(3)), tzinfo=CST).isoformat()
    backs = re.findall(r"\[返回[^\]]*\]\(([^)]*)\)", text)
    slugs = []
    for href in backs:
        found = re.search(r"/category/([^/]+)\.html$", href) or re.search(r"(?:^|/)([A-Za-z0-9_()-]+)/$", href)
        if found:
            slugs.append(found.group(1))
    return Expected(path, name, code, _field(front, "title"), published, _field(front, "categories"), slugs, has_layout)


def published_posts() -> list[Expected]:
    """One entry per post the site publishes (by name, _posts first)."""
    chosen: dict[str, Expected] = {}
    for folder in ("_posts", "old_post"):
        for path in sorted((POSTS / folder).glob("*.md")):
            post = expected_post(path)
            if post is not None and post.name not in chosen:
                chosen[post.name] = post
    return list(chosen.values())


def reachable_posts(home_limit: int = 100) -> list[Expected]:
    """Posts a crawler starting at the home page can reach by links.

    The home page lists the newest posts; a listed post's back links and its
    permalink's category name category pages; a category page lists all its posts.
    """
    posts = published_posts()
    newest = sorted(posts, key=lambda p: (p.published_at or "", p.name), reverse=True)[:home_limit]
    reached = {p.name: p for p in newest}
    categories: set[str] = set()
    while True:
        found = set(categories)
        for post in reached.values():
            found.update(post.back_link_categories)
            if post.has_layout and post.category and " " not in post.category:
                found.add(post.category.lower())
        if found == categories:
            return list(reached.values())
        categories = found
        for post in posts:
            if post.has_layout and post.category in categories:
                reached[post.name] = post
