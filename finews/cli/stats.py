"""``finews stats``: articles per day, source and category; revisions; rejects per reason."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from typing import Any

from finews import outcome
from finews.cli.common import archive


def add_parser(commands: Any) -> None:
    stats = commands.add_parser("stats", help="articles per day, source and category; revisions; rejects")
    stats.add_argument("--days", type=int, default=7, help="the last N days (UTC+8) of every section")
    stats.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    since = datetime.now(UTC) - timedelta(days=args.days)
    recent = {"published_at": {"$gte": since}}
    with archive("stats") as store:
        articles = store.articles
        total = articles.count_documents({})
        revised = articles.count_documents({"revisions.0": {"$exists": True}})
        per_day = articles.aggregate([
            {"$match": recent},
            {"$group": {"_id": {"$dateToString": {"format": "%Y-%m-%d", "date": "$published_at",
                                                   "timezone": "+08:00"}}, "n": {"$sum": 1}}},
            {"$sort": {"_id": -1}},
        ])
        per_source = articles.aggregate([{"$match": recent}, {"$group": {"_id": "$source", "n": {"$sum": 1}}},
                                         {"$sort": {"n": -1}}, {"$limit": 15}])
        per_category = articles.aggregate([{"$match": recent}, {"$group": {"_id": "$category", "n": {"$sum": 1}}},
                                           {"$sort": {"n": -1}}, {"$limit": 15}])
        rejects = store.db.rejects.aggregate([{"$match": {"time": {"$gte": since}}},
                                              {"$group": {"_id": "$reason", "n": {"$sum": 1}}}, {"$sort": {"n": -1}}])
        print(f"articles {total}, with revisions {revised}")
        for title, rows in (("per day (UTC+8)", per_day), ("per source", per_source),
                            ("per category", per_category), ("rejects per reason", rejects)):
            print(f"{title}, last {args.days} days")
            for row in rows:
                print(f"  {row['_id']!s:40} {row['n']:>7}")
    return outcome.OK
