"""Stored article documents: what an article becomes in MongoDB, and how a new sighting merges in.

The rules, in one place (docs/schema.md states them for downstream readers):

* ``_id`` is the canonical info code, so one article is one document.
* A sighting with the same ``content_hash`` writes no content: it bumps
  ``seen_count``/``last_seen_at`` and fills fields the document lacks.
* A different text replaces the current one (the old text goes to
  ``revisions``, newest first, bounded) unless the current body is the fuller
  one: a ``digest`` never replaces a ``full`` body, and a source ranked lower for
  bodies (post page = post source < share page) never replaces a higher one.
* ``published_at`` follows its own precedence: post source > share page > post
  page (pages of the early posts show Jekyll's UTC misreading, see README).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import UpdateOne

from finews.dates import parse_post_date

SCHEMA_VERSION = 1
BODY_RANK = {"post_page": 1, "post_source": 1, "share_api": 2, "share_render": 2}
DATE_RANK = {"post_page": 1, "share_api": 2, "share_render": 2, "post_source": 3}
# What a revision keeps of the version it replaces.
CONTENT_FIELDS = (
    "title", "summary", "body_html", "body_text", "body_kind", "body_length", "content_hash", "source", "stocks",
    "images", "via", "version",
)
# Fields a later sighting may fill when the document lacks them.
FILLABLE = (
    "title", "category", "source", "tags", "url", "share_url", "origin_url", "summary", "stocks", "images",
)
# A new text shorter than this share of the current one is a summary of it, not a new version.
SUMMARY_RATIO = 0.5
LIGHT_PROJECTION = {"revisions": 0, "body_html": 0, "body_text": 0}


def to_document(article: dict[str, Any]) -> dict[str, Any]:
    """The stored form of a normalized article (a plain dict, as ItemAdapter gives it)."""
    published = parse_post_date(article.get("published_at"))
    doc = {
        "_id": article["info_code"],
        "schema_version": SCHEMA_VERSION,
        "info_code": article["info_code"],
        "aliases": list(article.get("aliases") or []),
        "title": article.get("title"),
        "published_at": published,
        "published_at_via": article.get("via"),
        "category": article.get("category"),
        "source": article.get("source"),
        "tags": list(article.get("tags") or []),
        "url": article.get("url"),
        "share_url": article.get("share_url"),
        "origin_url": article.get("origin_url"),
        "summary": article.get("summary"),
        "body_html": article.get("body_html") or "",
        "body_text": article.get("body_text") or "",
        "body_kind": body_kind(article),
        "stocks": [dict(stock) for stock in article.get("stocks") or []],
        "images": list(article.get("images") or []),
        "content_hash": article.get("content_hash"),
        "via": article.get("via") or "post_page",
        "version": article.get("version"),
    }
    doc["body_length"] = len(doc["body_text"])
    if article.get("share_status"):
        doc["share_status"] = article["share_status"]
        doc["share_fetched_at"] = parse_post_date(article.get("share_fetched_at"))
    return doc


def body_kind(article: dict[str, Any]) -> str:
    """``digest`` for a body of one paragraph (the early emnews posts), ``full`` otherwise."""
    if article.get("body_kind") in ("digest", "full"):
        return article["body_kind"]
    text = article.get("body_text") or ""
    return "full" if "\n\n" in text or article.get("images") else "digest"


def plan_new(doc: dict[str, Any], now: datetime) -> UpdateOne:
    """An upsert that creates the document, and does nothing if another writer created it first."""
    insert = {k: v for k, v in doc.items() if k != "_id"}
    insert.update(first_seen_at=now, updated_at=now, last_seen_at=now, seen_count=1, seen_via=[doc["via"]],
                  revisions=[])
    return UpdateOne({"_id": doc["_id"]}, {"$setOnInsert": insert}, upsert=True)


def plan_existing(current: dict[str, Any], doc: dict[str, Any], now: datetime,
                  max_revisions: int) -> tuple[str, UpdateOne]:
    """Outcome and the update for a document that exists.

    Outcomes: ``revised`` (the new text replaces the current one), ``history``
    (an earlier text arriving late goes into ``revisions`` only), ``merged``
    (fields filled), ``unchanged``. ``current`` needs its content fields and
    revisions only for the first two (the caller reads them then); the filter
    of a revision names the hash it replaces, so a concurrent writer's revision
    is never overwritten blindly.
    """
    update: dict[str, Any] = {
        "$inc": {"seen_count": 1},
        "$max": {"last_seen_at": now},
        "$addToSet": {"aliases": {"$each": doc["aliases"]}, "seen_via": doc["via"]},
    }
    fields: dict[str, Any] = {}
    filter_: dict[str, Any] = {"_id": doc["_id"]}
    if doc["content_hash"] != current.get("content_hash") and is_earlier(doc, current):
        # An earlier text arriving late (the _posts copy after the old_post one): history, not news.
        # ``current`` must then include its revisions (the caller reads them for this outcome).
        known = {r.get("content_hash") for r in current.get("revisions") or []}
        if doc["content_hash"] in known:
            outcome = "unchanged"
        else:
            outcome = "history"
            snapshot = {k: doc.get(k) for k in CONTENT_FIELDS}
            snapshot["replaced_at"] = now
            update["$push"] = {"revisions": {"$each": [snapshot], "$slice": max_revisions}}
            filter_["revisions.content_hash"] = {"$ne": doc["content_hash"]}
    elif doc["content_hash"] != current.get("content_hash") and replaces(current, doc):
        outcome = "revised"
        fields.update({k: doc[k] for k in CONTENT_FIELDS})
        fields["updated_at"] = now
        snapshot = {k: current.get(k) for k in CONTENT_FIELDS}
        snapshot["replaced_at"] = now
        update["$push"] = {"revisions": {"$each": [snapshot], "$position": 0, "$slice": max_revisions}}
        filter_["content_hash"] = current.get("content_hash")
    else:
        fields.update({k: doc[k] for k in FILLABLE if doc.get(k) and not current.get(k)})
        if doc["content_hash"] == current.get("content_hash") and is_earlier(current, doc):
            fields["version"] = doc["version"]  # the same text, seen in its later copy
        outcome = "merged" if fields else "unchanged"
    if doc.get("published_at") and (
        not current.get("published_at")
        or DATE_RANK.get(doc["via"], 0) > DATE_RANK.get(current.get("published_at_via"), 0)
    ):
        fields.update(published_at=doc["published_at"], published_at_via=doc["via"])
        outcome = outcome if outcome in ("revised", "history") else "merged"
    if doc.get("share_status") == "ok":
        if doc.get("share_fetched_at"):
            update["$max"]["share_fetched_at"] = doc["share_fetched_at"]
        if current.get("share_status") != "ok":  # read at last: whatever failed before is over
            fields["share_status"] = "ok"
            update["$unset"] = {"share_error": ""}
    if fields:
        update["$set"] = fields
        outcome = "merged" if outcome == "unchanged" else outcome
    return outcome, UpdateOne(filter_, update)


def is_earlier(doc: dict[str, Any], current: dict[str, Any]) -> bool:
    """Both texts carry version evidence (post sources) and the new one is the older."""
    return doc.get("version") is not None and current.get("version") is not None and \
        doc["version"] < current["version"]


def replaces(current: dict[str, Any], doc: dict[str, Any]) -> bool:
    """Whether the new text should become the current one (the rules above)."""
    if current.get("body_kind") == "digest" and doc["body_kind"] == "full":
        return True
    if current.get("body_kind") == "full" and doc["body_kind"] == "digest":
        return False
    if doc["body_length"] < SUMMARY_RATIO * (current.get("body_length") or 0):
        return False
    return BODY_RANK.get(doc["via"], 0) >= BODY_RANK.get(current.get("via"), 0)
