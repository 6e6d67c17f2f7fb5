"""Pipeline step 4: archive articles in MongoDB, in batches, off the reactor thread, journaled.

Each article is written to the journal, then buffered; a batch goes to
MongoDB (one unordered bulk of upserts, in a worker thread) when it is full,
when it is older than FINEWS_MONGO_FLUSH_SECONDS, and at close. Its journal
segment is deleted after a checkpoint (a journaled write, and fsync on SecantusDB) confirms the server
has it on disk. A batch the database does not take stays in the journal and is
replayed when the database answers again (checked every flush interval) or
by the next run.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from typing import Any

from bson import ObjectId
from itemadapter import ItemAdapter
from pymongo.errors import PyMongoError
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import defer, task, threads
from twisted.python.failure import Failure

from finews.items import Article, ShareFailure
from finews.signals import item_rejected, share_failed
from finews.storage.archive import Archive, archive_for
from finews.storage.documents import to_document
from finews.storage.journal import Journal, Segment, folder_for
from finews.storage.warc import WarcStore, warc_for

logger = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, crawler: Crawler, archive: Archive, journal: Journal, batch_size: int,
                 flush_seconds: float, max_pending: int, captures: WarcStore | None = None) -> None:
        self.crawler = crawler
        self.captures = captures
        self.stats = crawler.stats
        self.archive = archive
        self.journal = journal
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.max_pending = max_pending
        self._buffer: list[dict[str, Any]] = []
        self._writing: defer.Deferred | None = None
        self._timer: task.LoopingCall | None = None
        self._waiters: list[defer.Deferred] = []
        # Written and acknowledged, kept until a checkpoint says the server has them on disk.
        self._acked: list[Segment] = []
        self._failures: list[dict[str, Any]] = []
        self.database_down = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        archive = archive_for(crawler)
        if archive is None:
            raise NotConfigured("FINEWS_STORE is off")
        settings = crawler.settings
        journal = Journal(folder_for(settings), archive.target)
        pipeline = cls(crawler, archive, journal, settings.getint("FINEWS_MONGO_BATCH_SIZE"),
                       settings.getfloat("FINEWS_MONGO_FLUSH_SECONDS"), settings.getint("FINEWS_MONGO_MAX_PENDING"),
                       warc_for(crawler))
        crawler.signals.connect(pipeline.share_failed, signal=share_failed)
        return pipeline

    async def open_spider(self) -> None:
        # Opened first: the run's record and the rejects are written to it even when the journal fails.
        await maybe_deferred_to_future(threads.deferToThread(self.archive.open))
        if self.captures is not None:  # before the replay: a killed run's torn captures are cut first
            await maybe_deferred_to_future(threads.deferToThread(self.captures.open))
        try:
            self.journal.check()
        except OSError as exc:
            # Said once, before any article: without the journal nothing is safe until MongoDB has it.
            logger.error("The journal %s cannot be written (%s): the run stops before the first article",
                         self.journal.folder, exc.strerror or exc)
            self.stats.set_value("finews/store/journal_unwritable", 1)
            raise CloseSpider("journal_unwritable") from None
        for target, count in self.journal.foreign():
            logger.warning("%d journal segment(s) written for another archive (%s): not replayed into this one, "
                           "left in %s", count, target, self.journal.root)
            self.stats.inc_value("finews/store/journal_foreign", count)
        await maybe_deferred_to_future(self._replay())
        self._timer = task.LoopingCall(self._tick)
        self._timer.start(self.flush_seconds, now=False)

    def share_failed(self, failure: ShareFailure, spider: Any) -> None:
        # Not journaled: a lost mark costs nothing, `share -a missing=1` finds unread share pages anyway.
        self._failures.append(dataclasses.asdict(failure))

    async def process_item(self, item: Any) -> Any:
        # An Article's fields as they are (to_document copies what it keeps): asdict() deep-copied them all.
        fields = vars(item) if isinstance(item, Article) else ItemAdapter(item).asdict()
        if self.captures is not None and fields.get("capture"):
            # Its file and offset, once the capture writer process has written it (journaled with them).
            fields["capture"] = await self.captures.located(fields["capture"])
        doc = to_document(fields)
        # Journaled with it: a replay of an applied sighting changes nothing. Hex: plain JSON in the journal.
        doc["sighting"] = str(ObjectId())
        self.journal.append(doc)
        self._buffer.append(doc)
        if len(self._buffer) >= self.batch_size:
            if self.database_down:
                self._park()
            else:
                self._flush()
        if len(self._buffer) >= self.max_pending and self._writing is not None:
            # Backpressure: a slow database slows the crawl instead of filling memory.
            await maybe_deferred_to_future(self._when_idle())
        return item

    async def close_spider(self) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        await maybe_deferred_to_future(self._when_idle())
        if not self.database_down:
            self._flush()
            await maybe_deferred_to_future(self._when_idle())
        if not self.database_down:
            await maybe_deferred_to_future(self._replay())
        if self._acked:
            self._start(self._checkpoint())
            await maybe_deferred_to_future(self._when_idle())
        if self.database_down:
            self._park()
            pending = self.journal.pending_segments()
            logger.error("MongoDB is not answering: %d journal segment(s) in %s wait for the next run",
                         pending, self.journal.folder)
            self.stats.set_value("finews/store/journal_pending", pending)
        self.journal.close()

    def _tick(self) -> None:
        if self._writing is not None:
            return
        if self.database_down:
            self._park()
            self._replay()
        elif self._buffer or self._failures:
            self._flush()
        elif self._acked:
            self._start(self._checkpoint())

    def _flush(self) -> None:
        """Start writing the buffered batch, unless a write is under way (it picks the rest up)."""
        if self._writing is not None or not (self._buffer or self._failures):
            return
        docs, self._buffer = self._buffer, []
        self._start(self._write(docs, self.journal.cut()))

    def _write_batch(self, docs: list[dict[str, Any]], failures: list[dict[str, Any]], *,
                     replayed: bool = False) -> Counter:
        docs = self._captures_on_disk(docs, replayed)
        outcomes = self.archive.write_articles(docs)
        if failures:  # after the articles: a failure mark needs its article
            outcomes["share_marked_failed"] = self.archive.mark_share_failures(failures)
        return outcomes

    def _captures_on_disk(self, docs: list[dict[str, Any]], replayed: bool) -> list[dict[str, Any]]:
        """The articles to write, none pointing at a capture that is not on disk: this run's wait for theirs to be
        synced. A journaled article whose capture a killed run did not get onto disk is not archived: the post
        is then unknown, and the crawl fetches (and captures) it again. Should the capture disk fail, articles
        are archived without a pointer rather than lost (finews/warc/capture_lost counts both)."""
        if self.captures is None:
            return docs
        try:
            self.captures.sync()
        except OSError:
            for doc in docs:
                doc["capture"] = None
            self.stats.inc_value("finews/warc/capture_lost", len(docs))
            return docs
        if not replayed:
            return docs
        kept = [doc for doc in docs if not doc.get("capture") or self.captures.on_disk(doc["capture"])]
        if len(kept) < len(docs):
            logger.warning("%d journaled article(s) whose capture the killed run did not get onto disk: not "
                           "archived, fetched again", len(docs) - len(kept))
            self.stats.inc_value("finews/warc/capture_lost", len(docs) - len(kept))
        return kept

    def _park(self) -> None:
        """While the database is down, buffered articles wait in the journal only, not in memory."""
        segment = self.journal.cut()
        if segment is not None:
            self.journal.release(segment)
        self._buffer = []

    def _replay(self) -> defer.Deferred:
        """Write leftover journal segments (a killed run's, or ours while the database was down)."""
        if self._writing is None:
            self._start(self._replay_segments())
        return self._when_idle()

    def _start(self, writing: defer.Deferred) -> None:
        self._writing = writing
        writing.addBoth(self._finished)

    def _finished(self, result: Any) -> None:
        self._writing = None
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.callback(None)
        if isinstance(result, Failure):
            logger.error("archive write crashed", exc_info=(result.type, result.value, result.getTracebackObject()))
            self.stats.inc_value("finews/store/write_crashed")
        if len(self._buffer) >= self.batch_size and not self.database_down:
            self._flush()

    def _when_idle(self) -> defer.Deferred:
        """A Deferred of its own that fires once the write under way (if any) is over."""
        if self._writing is None:
            return defer.succeed(None)
        waiter: defer.Deferred = defer.Deferred()
        self._waiters.append(waiter)
        return waiter

    @defer.inlineCallbacks
    def _write(self, docs: list[dict[str, Any]], segment: Segment | None):
        failures, self._failures = self._failures, []
        try:
            outcomes = yield threads.deferToThread(self._write_batch, docs, failures)
        except (PyMongoError, RuntimeError) as exc:
            self._database_failed(exc, len(docs))
            if segment is not None:
                self.journal.release(segment)
            return
        self._count(outcomes)
        self.database_down = False
        if segment is not None:
            self._acked.append(segment)

    @defer.inlineCallbacks
    def _replay_segments(self):
        segments = self.journal.claim_leftovers()
        for index, segment in enumerate(segments):
            docs = Journal.read(segment)
            try:
                outcomes = yield threads.deferToThread(self._write_batch, docs, [], replayed=True)
            except (PyMongoError, RuntimeError) as exc:
                self._database_failed(exc, len(docs))
                for unwritten in segments[index:]:
                    self.journal.release(unwritten)
                return
            self.database_down = False
            self._count(outcomes)
            self.stats.inc_value("finews/store/replayed", len(docs))
            logger.info("Replayed %d journaled article(s) from %s", len(docs), segment.path.name)
            self._acked.append(segment)

    @defer.inlineCallbacks
    def _checkpoint(self):
        """Forget the journal segments the server has made durable (writes are w=1; this one waits for disk)."""
        segments, self._acked = self._acked, []
        try:
            yield threads.deferToThread(self.archive.checkpoint)
        except PyMongoError as exc:
            self._database_failed(exc, sum(s.count for s in segments))
            for segment in segments:  # replayed later: applying them again changes nothing but counts
                self.journal.release(segment)
            return
        for segment in segments:
            self.journal.done(segment)

    def _database_failed(self, exc: Exception, count: int) -> None:
        if not self.database_down:
            logger.error("MongoDB write failed (%s: %s); %d article(s) kept in the journal, retrying every %.0f s",
                         type(exc).__name__, exc, count, self.flush_seconds)
        self.database_down = True
        self.stats.inc_value("finews/store/write_failed")

    def _count(self, outcomes: Counter) -> None:
        """Count a written batch, and keep what MongoDB refused as rejects (the rest of the batch stands)."""
        for outcome, count in outcomes.items():
            self.stats.inc_value(f"finews/articles/{outcome}", count)
        for refused in self.archive.take_refused():
            self.crawler.signals.send_catch_log(signal=item_rejected, spider=self.crawler.spider, **refused)
