"""Rendered feed bytes and the set of feeds waiting to be rendered."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from email.utils import formatdate

import redis

from worker.storage.base import guarded, key, now

# Forget a dirty mark only if nobody marked the feed again while it was being rendered.
_CLEAR_DIRTY = """
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v and tonumber(v) <= tonumber(ARGV[2]) then return redis.call('HDEL', KEYS[1], ARGV[1]) end
if v then return redis.call('HINCRBY', KEYS[1], ARGV[1], -tonumber(ARGV[2])) end
return 0
"""


@dataclass(frozen=True)
class StoredFeed:
    body: bytes
    etag: str
    last_modified: str  # HTTP date
    last_modified_ts: float


class FeedStore:
    r: redis.Redis

    def _init_feed_scripts(self) -> None:
        self._clear_dirty = self.r.register_script(_CLEAR_DIRTY)

    def mark_dirty(self, feeds: list[str]) -> None:
        if not feeds:
            return
        with guarded("mark feeds dirty"), self.r.pipeline(transaction=False) as p:
            for feed in feeds:
                p.hincrby(key("dirty"), feed, 1)
            p.execute()

    def dirty(self) -> dict[str, int]:
        with guarded("read dirty feeds"):
            return {k.decode(): int(v) for k, v in self.r.hgetall(key("dirty")).items()}

    def clear_dirty(self, feed: str, seen: int) -> None:
        with guarded("clear dirty feed"):
            self._clear_dirty(keys=[key("dirty")], args=[feed, seen])

    def store_feed(self, feed: str, fmt: str, body: bytes) -> bool:
        """Keep the rendered bytes; ``Last-Modified`` moves only when the bytes change."""
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        k = key("feed", feed, fmt)
        with guarded(f"store feed {feed}.{fmt}"):
            if self.r.hget(k, "etag") == etag.encode():
                return False
            t = now()
            self.r.hset(k, mapping={"body": body, "etag": etag, "lm": t})
        return True

    def feed(self, feed: str, fmt: str) -> StoredFeed | None:
        with guarded(f"read feed {feed}.{fmt}"):
            raw = self.r.hgetall(key("feed", feed, fmt))
        if not raw:
            return None
        ts = float(raw[b"lm"])
        return StoredFeed(
            body=raw[b"body"],
            etag=raw[b"etag"].decode(),
            last_modified=formatdate(int(ts), usegmt=True),
            last_modified_ts=float(int(ts)),
        )
