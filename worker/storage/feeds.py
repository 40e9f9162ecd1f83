"""Rendered feed bytes and the set of feeds waiting to be rendered.

Each feed is kept twice: as rendered, and gzipped once at render time, so that serving a
gzip-accepting client costs a read, not a compression per request. Beside them: the bytes'
sha256 (to tell a change) and the Last-Modified second, which moves only when the bytes change
and then always forward by at least a second (``scripts.STORE_FEED``): the ETags are made from it
and the length as nginx makes a file's (``feeds.serve.etag_of``), so they must never repeat.
A feed changing more than once a second gets a Last-Modified up to that many seconds ahead of
the clock, until the clock catches up.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import redis

from feeds.serve import FeedBytes, gzip_body
from worker.storage import keys
from worker.storage.base import guarded, now
from worker.storage.scripts import Scripts

StoredFeed = FeedBytes  # what the feed routes serve, as stored


class FeedStore:
    r: redis.Redis
    scripts: Scripts

    def mark_dirty(self, feeds: list[str]) -> None:
        if not feeds:
            return
        with guarded("mark feeds dirty"), self.r.pipeline(transaction=False) as p:
            for feed in feeds:
                p.hincrby(keys.DIRTY, feed, 1)
            p.execute()

    def dirty(self) -> dict[str, int]:
        with guarded("read dirty feeds"):
            return {k.decode(): int(v) for k, v in self.r.hgetall(keys.DIRTY).items()}

    def clear_dirty(self, feed: str, seen: int) -> None:
        with guarded("clear dirty feed"):
            self.scripts.clear_dirty(keys=[keys.DIRTY], args=[feed, seen])

    def store_feed(self, feed: str, fmt: str, body: bytes) -> StoredFeed | None:
        """Keep the rendered bytes and their gzip; the feed as stored if the bytes changed, else
        None (``Last-Modified`` moves only when they change)."""
        sha = hashlib.sha256(body).hexdigest()
        gz = gzip_body(body)
        with guarded(f"store feed {feed}.{fmt}"):
            lm = int(self.scripts.store_feed(keys=[keys.feed(feed, fmt)], args=[sha, body, gz, now()]))
        return StoredFeed.at(body, gz, lm) if lm else None

    def feed(self, feed: str, fmt: str) -> StoredFeed | None:
        """The stored feed: its bytes and the gzip made at render time, so no request compresses."""
        with guarded(f"read feed {feed}.{fmt}"):
            lm, body, gz = self.r.hmget(keys.feed(feed, fmt), ["lm", "body", "gz"])
        if lm is None:
            return None
        body = body or b""
        return StoredFeed.at(body, gz if gz is not None else gzip_body(body), int(float(lm)))

    def has_feeds(self, feed: str, fmts: Sequence[str]) -> bool:
        """True when ``feed`` is stored in every one of ``fmts``."""
        with guarded(f"check feed {feed}"):
            return int(self.r.exists(*(keys.feed(feed, fmt) for fmt in fmts))) == len(fmts)
