"""``finews export``: archived articles as JSON lines, or as Jekyll posts in the site's own format."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from finews import outcome
from finews.arguments import ArgumentProblem
from finews.cli.common import archive, day, iso
from finews.dates import CST


def add_parser(commands: Any) -> None:
    export = commands.add_parser("export", help="articles as JSON lines or Jekyll-style Markdown posts")
    export.add_argument("--format", choices=["jsonl", "markdown"], default="jsonl")
    export.add_argument("--since", type=day, help="YYYY-MM-DD (UTC+8), inclusive")
    export.add_argument("--until", type=day, help="YYYY-MM-DD (UTC+8), inclusive")
    export.add_argument("--category")
    export.add_argument("--out", type=Path, help="a file (jsonl) or a folder (markdown); default stdout (jsonl)")
    export.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    query: dict[str, Any] = {}
    if args.category:
        query["category"] = args.category
    if args.since or args.until:
        query["published_at"] = {}
        if args.since:
            query["published_at"]["$gte"] = args.since
        if args.until:
            query["published_at"]["$lt"] = args.until + timedelta(days=1)
    if args.format == "markdown" and not args.out:
        raise ArgumentProblem("finews export: --format markdown needs --out FOLDER")
    count = 0
    with archive("export") as store:
        cursor = store.articles.find(query, {"revisions": 0}).sort("published_at", 1)
        if args.format == "jsonl":
            out = args.out.open("w", encoding="utf-8") if args.out else sys.stdout
            for doc in cursor:
                out.write(json.dumps(doc, ensure_ascii=False, default=iso) + "\n")
                count += 1
            if args.out:
                out.close()
        else:
            folder = args.out / "_posts"
            folder.mkdir(parents=True, exist_ok=True)
            for doc in cursor:
                (folder / markdown_name(doc)).write_text(markdown_post(doc), encoding="utf-8")
                count += 1
    print(f"{count} article(s) exported", file=sys.stderr)
    return outcome.OK


def markdown_name(doc: dict[str, Any]) -> str:
    day = doc["published_at"].astimezone(CST).strftime("%Y-%m-%d")
    return f"{day}-{doc['_id']}.md"


def markdown_post(doc: dict[str, Any]) -> str:
    """A Jekyll post of the site's own format: front matter, body HTML, share link."""
    when = doc["published_at"].astimezone(CST).strftime("%Y-%m-%d %H:%M:%S +0800")
    tags = (doc.get("tags") or [f"{doc.get('source') or ''}新闻"])[0]
    title = (doc.get("title") or "").replace('"', "“")
    parts = [f'---\nlayout: post\ntitle: "{title}"\ndate: {when}\ncategories: {doc.get("category") or ""}\n'
             f"tags: {tags}\n---\n"]
    if doc.get("summary"):
        parts.append(f"> {doc['summary']}\n\n")
    parts.append(doc.get("body_html") or "")
    link = doc.get("share_url") or doc.get("origin_url")
    if link:
        parts.append(f"\n\n<{link}>")
    return "".join(parts)


