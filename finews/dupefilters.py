"""Seen-request fingerprints in Redis, per crawl session, expiring: memory stays bounded over months of cron.

Workers of one distributed crawl share a session: the first to start creates
the session key (finews.redis_keys), the others join it, and every fingerprint check keeps it
(and its fingerprint set) alive for ``FINEWS_REDIS_SESSION_SECONDS`` more. Once all
workers are done, both expire, and the next crawl starts a new session. The archive
(``_id`` = info code) stays the source of truth: a forgotten fingerprint costs at most
a re-fetch, never a duplicate article.
"""

from __future__ import annotations

import uuid
from typing import Any

from scrapy_redis.connection import get_redis_from_settings
from scrapy_redis.dupefilter import RFPDupeFilter

from finews.redis_keys import seen_prefix, session_key

# One round trip, atomic: the current session (made now if there is none), the fingerprint added to its set,
# and both kept alive. Every check reads the session afresh, so all workers always share the current one.
_SEEN = """
local session = redis.call('GET', KEYS[1])
if not session then
  session = ARGV[1]
  redis.call('SET', KEYS[1], session)
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
local seen = KEYS[2] .. session
local added = redis.call('SADD', seen, ARGV[2])
redis.call('EXPIRE', seen, ARGV[3])
return added
"""


class SessionDupeFilter(RFPDupeFilter):
    def __init__(self, server: Any, spider_name: str, ttl: int, debug: bool = False) -> None:
        self.session_key = session_key(spider_name)
        self.seen_prefix = seen_prefix(spider_name)
        super().__init__(server, self.seen_prefix, debug)
        self.ttl = ttl
        self._seen = server.register_script(_SEEN)

    @classmethod
    def from_spider(cls, spider: Any) -> SessionDupeFilter:
        settings = spider.settings
        return cls(get_redis_from_settings(settings), spider.name, settings.getint("FINEWS_REDIS_SESSION_SECONDS"),
                   debug=settings.getbool("DUPEFILTER_DEBUG"))

    @classmethod
    def from_settings(cls, settings: Any) -> SessionDupeFilter:
        raise NotImplementedError("SessionDupeFilter works with the scrapy-redis scheduler (FINEWS_REDIS_URL)")

    @property
    def key(self) -> str:
        """The current session's fingerprint set (scrapy-redis reads ``key``)."""
        session = self.server.get(self.session_key)
        return self.seen_prefix + (session.decode() if isinstance(session, bytes) else str(session or "none"))

    @key.setter
    def key(self, value: str) -> None:
        pass  # fixed by the session, not by scrapy-redis

    def request_seen(self, request: Any) -> bool:
        fingerprint = self.request_fingerprint(request)
        new_session = uuid.uuid4().hex[:12]
        added = self._seen(keys=[self.session_key, self.seen_prefix], args=[new_session, fingerprint, self.ttl])
        return added == 0

    def close(self, reason: str = "") -> None:
        """Keep the fingerprints: other workers of the session may still be crawling (they expire)."""
