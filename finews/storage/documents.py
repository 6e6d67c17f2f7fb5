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
* Every document stays under MongoDB's 16 MiB by construction: the encoded size
  is measured, the oldest revisions go first, and a version that cannot fit alone
  is refused (``TooLarge``) before it is sent.
* A sighting is applied once: its id (given by the store pipeline, journaled with
  it) is kept in ``sightings``, so replaying an acknowledged journal segment
  changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import bson
from pymongo import UpdateOne

from finews.dates import CST, parse_post_date

SCHEMA_VERSION = 1
BODY_RANK = {"post_page": 1, "post_source": 1, "share_api": 2, "share_render": 2}
DATE_RANK = {"post_page": 1, "share_api": 2, "share_render": 2, "post_source": 3}
# What a revision keeps of the version it replaces.
CONTENT_FIELDS = (
    "title", "summary", "body_html", "body_text", "body_kind", "body_length", "content_hash", "source", "stocks",
    "linked_stocks", "images", "via", "version", "capture", "parser_version",
)
# A revision's kind: a text that was the current one until a newer replaced it, or an earlier text that arrived
# after a later one (the _posts copy read after the old_post one) and went into the history without ever being
# current; for those, replaced_at is when it arrived.
REPLACED, EARLIER = "replaced", "earlier"
# Fields a later sighting may fill when the document lacks them.
FILLABLE = (
    "title", "category", "source", "tags", "url", "share_url", "origin_url", "summary", "stocks", "linked_stocks",
    "images", "capture",
)
# The empty-field rule (docs/schema.md): every field is in every document, and a value nobody knows is None
# (a count, 0). A share page not tried yet is this; so are the fields documents written before them lack,
# which Archive.fill_empty_fields gives them once (linked_stocks None: not parsed yet).
SHARE_UNTRIED = {"share_status": None, "share_fetched_at": None, "share_error": None, "share_checked_at": None,
                 "share_attempts": 0}
ADDED_LATER = {**SHARE_UNTRIED, "linked_stocks": None, "capture": None, "parser_version": None}
# The site's first posts (2021-12-01 and 2021-12-08) have front-matter dates without an offset, which Jekyll
# read as UTC: their pages show times 8 hours late (finews/parsing/source.py). A page time before this moment
# may be one of them; only the post source, or the share page, can tell. From 2021-12-08 on the sources carry
# +0800 (MANIFEST.tsv of the corpus: 85 files without one, none dated later).
EARLY_PAGE_TIMES_END = datetime(2021, 12, 9, 8, 0, tzinfo=CST)
# A new text shorter than this share of the current one is a summary of it, not a new version.
SUMMARY_RATIO = 0.5
LIGHT_PROJECTION = {"revisions": 0, "body_html": 0, "body_text": 0}
# MongoDB's limit on a BSON document, and the room kept under it for what later sightings add unmeasured
# (aliases, seen_via, sightings, share marks, filled fields).
MAX_BSON_BYTES = 16 * 1024 * 1024
HEADROOM_BYTES = 256 * 1024
_FITS = MAX_BSON_BYTES - HEADROOM_BYTES  # what a write may make a document at most
# The ids of the last sightings applied: a journal replay comes within a run or two, never 20 sightings later.
SIGHTINGS_KEPT = 20
# Per element of the revisions array: its key ("0", "1", ...) and type byte, at most.
_ELEMENT_BYTES = 8


class TooLarge(ValueError):
    """One version of an article does not fit in a MongoDB document."""

    def __init__(self, size: int, what: str = "one version") -> None:
        super().__init__(f"{what} takes {size} bytes encoded; MongoDB's limit is {MAX_BSON_BYTES} "
                         "(it refuses more with code 10334)")
        self.size = size


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
        "published_at_maybe_late": maybe_late(published, article.get("via")),
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
        "linked_stocks": [dict(stock) for stock in article.get("linked_stocks") or []],
        "images": list(article.get("images") or []),
        "content_hash": article.get("content_hash"),
        "via": article.get("via") or "post_page",
        "version": article.get("version"),
        "capture": dict(article["capture"]) if article.get("capture") else None,
        "parser_version": article.get("parser_version"),
    }
    doc["body_length"] = len(doc["body_text"])
    doc.update(SHARE_UNTRIED)
    if article.get("share_status"):
        doc["share_status"] = article["share_status"]
        doc["share_fetched_at"] = parse_post_date(article.get("share_fetched_at"))
    return doc


def maybe_late(published: datetime | None, via: str | None) -> bool:
    """A time from a post page of the site's first days, which may be 8 hours late until a source corrects it."""
    return via == "post_page" and published is not None and published < EARLY_PAGE_TIMES_END


def body_kind(article: dict[str, Any]) -> str:
    """``digest`` for a body of one paragraph (the early emnews posts), ``full`` otherwise."""
    if article.get("body_kind") in ("digest", "full"):
        return article["body_kind"]
    text = article.get("body_text") or ""
    return "full" if "\n\n" in text or article.get("images") else "digest"


def plan_new(doc: dict[str, Any], now: datetime) -> UpdateOne:
    """An upsert that creates the document, and does nothing if another writer created it first.

    Raises TooLarge when the document would not fit.
    """
    insert = {k: v for k, v in doc.items() if k not in ("_id", "sighting")}
    insert.update(first_seen_at=now, updated_at=now, last_seen_at=now, seen_count=1, seen_via=[doc["via"]],
                  revisions=[], sightings=[doc["sighting"]] if doc.get("sighting") is not None else [])
    if _size_bound(insert) > _FITS:  # encoded only when it may not fit
        size = len(bson.encode(insert))
        if size > _FITS:
            raise TooLarge(size)
    return UpdateOne({"_id": doc["_id"]}, {"$setOnInsert": insert}, upsert=True)


def plan_existing(current: dict[str, Any], doc: dict[str, Any], now: datetime,
                  max_revisions: int, *, full: bool = True) -> tuple[str, UpdateOne | None]:
    """Outcome and the update for a document that exists (``planned_update`` says how)."""
    outcome, planned = planned_update(current, doc, now, max_revisions, full=full)
    return outcome, None if planned is None else UpdateOne(*planned)


def planned_update(current: dict[str, Any], doc: dict[str, Any], now: datetime, max_revisions: int, *,
                   full: bool = True) -> tuple[str, tuple[dict[str, Any], dict[str, Any]] | None]:
    """Outcome, and the filter and update operators, for a document that exists.

    Outcomes: ``revised`` (the new text replaces the current one), ``history``
    (an earlier text arriving late goes into ``revisions`` only), ``merged``
    (fields filled), ``unchanged``, ``replayed`` (this sighting is applied
    already: no update). ``current`` may be read without texts and revisions
    (``full=False``) to find the outcome; the first two need the whole document,
    which the caller reads for them only, and are planned again with it. The
    filter of a revision names the hash it replaces, so a concurrent writer's
    revision is never overwritten blindly. Raises TooLarge when the new version
    cannot fit alone.
    """
    sighting = doc.get("sighting")
    if sighting is not None and sighting in (current.get("sightings") or ()):
        return "replayed", None
    update: dict[str, Any] = {
        "$inc": {"seen_count": 1},
        "$max": {"last_seen_at": now},
        "$addToSet": {"aliases": {"$each": doc["aliases"]}, "seen_via": doc["via"]},
    }
    push: dict[str, Any] = {}
    if sighting is not None:
        push["sightings"] = {"$each": [sighting], "$slice": -SIGHTINGS_KEPT}
    fields: dict[str, Any] = {}
    filter_: dict[str, Any] = {"_id": doc["_id"]}
    if doc["content_hash"] != current.get("content_hash") and is_earlier(doc, current):
        # An earlier text arriving late (the _posts copy after the old_post one): history, not news.
        late = _late_text(current, doc, now, max_revisions, full=full)
        outcome = "unchanged" if late is None else "history"
        if late is not None:
            push["revisions"] = late
            filter_["revisions.content_hash"] = {"$ne": doc["content_hash"]}
    elif doc["content_hash"] != current.get("content_hash") and replaces(current, doc):
        outcome = "revised"
        fields.update({k: doc[k] for k in CONTENT_FIELDS})
        fields["updated_at"] = now
        snapshot = {k: current.get(k) for k in CONTENT_FIELDS}
        snapshot.update(kind=REPLACED, replaced_at=now)
        keep = _revisions_that_fit({**current, **fields}, [snapshot, *(current.get("revisions") or [])],
                                   max_revisions) if full else max_revisions
        push["revisions"] = {"$each": [snapshot], "$position": 0, "$slice": keep}
        filter_["content_hash"] = current.get("content_hash")
    else:
        fields.update({k: doc[k] for k in FILLABLE if _fills(current.get(k), doc.get(k))})
        filled = len(bson.encode(fields)) if fields else 0
        if filled > HEADROOM_BYTES:  # fills are small: a huge one is bad input
            raise TooLarge(filled, "what it would fill in")
        if doc["content_hash"] == current.get("content_hash") and doc.get("version") is not None and (
                current.get("version") is None or is_earlier(current, doc)):
            fields["version"] = doc["version"]  # the same text, seen in its source (or in its later copy)
        outcome = "merged" if fields else "unchanged"
    if doc.get("published_at") and (
        not current.get("published_at")
        or DATE_RANK.get(doc["via"], 0) > DATE_RANK.get(current.get("published_at_via"), 0)
    ):
        fields.update(published_at=doc["published_at"], published_at_via=doc["via"],
                      published_at_maybe_late=maybe_late(doc["published_at"], doc["via"]))
        outcome = outcome if outcome in ("revised", "history") else "merged"
    if doc.get("share_status") == "ok":
        if doc.get("share_fetched_at"):
            update["$max"]["share_fetched_at"] = doc["share_fetched_at"]
        if current.get("share_status") != "ok":  # read at last: whatever failed before is over
            fields.update(share_status="ok", share_error=None)
    if fields:
        update["$set"] = {**fields, "schema_version": SCHEMA_VERSION}
        outcome = "merged" if outcome == "unchanged" else outcome
    if push:
        update["$push"] = push
    return outcome, (filter_, update)


def _fills(have: Any, new: Any) -> bool:
    """A sighting fills a field the document lacks: an empty one, or a list not known yet (None) with the
    sighting's list, even an empty one (it is known now)."""
    return bool(new and not have) or (have is None and isinstance(new, list))


def _late_text(current: dict[str, Any], doc: dict[str, Any], now: datetime, max_revisions: int, *,
               full: bool) -> dict[str, Any] | None:
    """The $push of an earlier text into the revisions, where its version puts it (newest first); None when it
    is there already or older than every revision kept."""
    revisions = current.get("revisions") or []
    if doc["content_hash"] in {r.get("content_hash") for r in revisions}:
        return None
    position = _place(revisions, doc["version"])
    snapshot = {k: doc.get(k) for k in CONTENT_FIELDS}
    snapshot.update(kind=EARLIER, replaced_at=now)
    keep = _revisions_that_fit(current, [*revisions[:position], snapshot, *revisions[position:]],
                               max_revisions) if full else max_revisions
    if position >= keep:
        return None
    return {"$each": [snapshot], "$position": position, "$slice": keep}


def _size_bound(doc: dict[str, Any]) -> int:
    """An upper bound of a flat article document's BSON size, without encoding it (an encode of every new
    article cost 11 us of the writer thread): 4 bytes a character at most, generous room for the rest."""
    size = 1024
    for value in doc.values():
        if isinstance(value, str):
            size += 4 * len(value) + 64
        elif isinstance(value, list):
            size += sum(4 * len(item) + 64 if isinstance(item, str) else 1024 for item in value) + 64
        else:
            size += 1024 if isinstance(value, dict) else 64
    return size


def _place(revisions: list[dict[str, Any]], version: int) -> int:
    """Where a text of ``version`` goes among revisions kept newest first: after every revision that is not
    known to be older (a revision without a version came by arrival, later than any post source)."""
    for index, revision in enumerate(revisions):
        if revision.get("version") is not None and revision["version"] < version:
            return index
    return len(revisions)


def _revisions_that_fit(document: dict[str, Any], revisions: list[dict[str, Any]], max_revisions: int) -> int:
    """How many of ``revisions`` (newest first) the document can keep under the limit; TooLarge when even
    none leave it room."""
    size = len(bson.encode({**document, "revisions": []}))
    if size > _FITS:
        raise TooLarge(size)
    keep = 0
    for revision in revisions[:max_revisions]:
        size += len(bson.encode(revision)) + _ELEMENT_BYTES
        if size > _FITS:
            break
        keep += 1
    return keep


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
