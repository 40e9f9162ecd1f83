"""Rendered feed bytes and the set of feeds waiting to be rendered.

Each feed is kept twice: as rendered, and gzipped once at render time, so that serving a
gzip-accepting client costs a read, not a compression per request.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Sequence
from email.utils import formatdate

import redis

from feeds.serve import FeedBytes
from worker.storage import keys
from worker.storage.base import guarded, now
from worker.storage.scripts import Scripts

GZIP_LEVEL = 6


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

    def store_feed(self, feed: str, fmt: str, body: bytes) -> bool:
        """Keep the rendered bytes and their gzip; ``Last-Modified`` moves only when the bytes change."""
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        gz = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
        with guarded(f"store feed {feed}.{fmt}"):
            return bool(self.scripts.store_feed(keys=[keys.feed(feed, fmt)], args=[etag, body, gz, now()]))

    def feed(self, feed: str, fmt: str) -> StoredFeed | None:
        """The stored feed: its bytes and the gzip made at render time, so no request compresses."""
        with guarded(f"read feed {feed}.{fmt}"):
            etag, lm, body, gz = self.r.hmget(keys.feed(feed, fmt), ["etag", "lm", "body", "gz"])
        if etag is None or lm is None:
            return None
        return _stored(etag, lm, body, gz)

    def has_feeds(self, feed: str, fmts: Sequence[str]) -> bool:
        """True when ``feed`` is stored in every one of ``fmts``."""
        with guarded(f"check feed {feed}"):
            return int(self.r.exists(*(keys.feed(feed, fmt) for fmt in fmts))) == len(fmts)


def _stored(etag: bytes, lm: bytes, body: bytes | None, gz: bytes | None) -> StoredFeed:
    ts = float(int(float(lm)))
    return StoredFeed(
        body=body or b"",
        etag=etag.decode(),
        last_modified=formatdate(ts, usegmt=True),
        last_modified_ts=ts,
        gzipped=gz,
    )
