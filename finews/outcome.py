"""What a finished run means for cron: its exit status, from its stats.

Scrapy's own ``scrapy crawl`` exits 0 after nearly anything; finews' crawl
command and ``finews crawl`` exit with these instead (README, Operations).
"""

from __future__ import annotations

from typing import Any

OK = 0
USAGE = 2
LOCKED = 3
STORAGE_DOWN = 4
NOTHING_FETCHED = 5
MONITORS_FAILED = 6
CUT_SHORT = 7

MEANING = {
    OK: "done",
    USAGE: "bad arguments",
    LOCKED: "another run of this spider is under way",
    STORAGE_DOWN: ("the archive did not answer and the journal still holds articles, or the journal cannot be "
                   "written; or a distributed run's Redis does not answer (nothing started)"),
    NOTHING_FETCHED: "pages were asked for (or local files tried) and not one answered or was read",
    MONITORS_FAILED: "monitors failed (errors, rejects, item count, freshness, validation)",
    CUT_SHORT: "the run did not finish (time limit, no items for too long, shutdown, crash)",
}


def exit_status(stats: dict[str, Any]) -> tuple[int, str]:
    """The exit status of a run and why; the first that applies in the order of the table above."""
    reason = stats.get("finish_reason")
    if stats.get("finews/store/journal_unwritable"):
        return STORAGE_DOWN, "the journal cannot be written"
    if reason != "finished":
        return CUT_SHORT, f"finish reason {reason!r}"
    if stats.get("finews/store/journal_pending"):
        return STORAGE_DOWN, f"{stats['finews/store/journal_pending']} journal segment(s) not written"
    fetched = sum(v for k, v in stats.items() if k.startswith("downloader/response_status_count/2"))
    fetched += stats.get("downloader/response_status_count/304", 0)
    fetched += stats.get("finews/posts/files_read", 0)  # local files the posts spider read itself
    fetched += stats.get("finews/reparse/read", 0)  # captures the reparse spider read back
    asked = stats.get("downloader/request_count", 0) + stats.get("finews/posts/files", 0)
    asked += stats.get("finews/reparse/tried", 0)
    if fetched == 0 and asked:  # a run that had nothing to ask for (nothing missing, an empty folder) is fine
        return NOTHING_FETCHED, "no 2xx or 304 response, no local file read"
    if stats.get("finews/monitors/failed"):
        return MONITORS_FAILED, ", ".join(stats.get("finews/monitors/failures") or []) or "monitors failed"
    return OK, MEANING[OK]
