"""Feed bytes kept in the serving process, dropped the moment Redis says they changed.

A feed GET that reads Redis costs a round trip and a thread hop; a feed origin answers mostly the
same few feeds. So the server keeps what it read, and Redis tells it when to forget: one
connection asks for server-assisted client-side caching in broadcast mode (``CLIENT TRACKING ON
REDIRECT <own id> BCAST PREFIX syn:feed: PREFIX syn:sections``) and listens on
``__redis__:invalidate``. Any write to a feed key (by any worker, a script, ``FLUSHALL``, expiry)
arrives there as an invalidation.

Correctness rules:
- the cache is used only while that connection is up; when it drops, everything is forgotten and
  every read goes to Redis until a new connection has subscribed;
- every invalidation (of a key, of everything, a lost or a new connection) bumps a generation; a
  value read from Redis is kept only if the generation did not move while it was read, so a read
  that raced a write cannot plant the old bytes;
- apart from the cache, the last bytes read of each feed (within the same budget) are answered
  only when a read from Redis fails: the primary died and no replica is promoted yet, and a
  feed a moment old beats a 503. A ``FLUSHALL`` forgets them too.

With Sentinel (``worker.storage.connect``) the connection is made to whichever server the
sentinels name as primary, so after a failover it subscribes again on the promoted replica.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from redis.exceptions import RedisError

from feeds.serve import FeedBytes
from worker.storage import keys
from worker.storage.base import StorageUnavailable
from worker.storage.connect import RedisTarget, as_target, client
from worker.storage.feeds import FeedStore

log = logging.getLogger("syndicate.feedcache")

FEED_PREFIX = keys.FEED_PREFIX
SECTIONS_KEY = keys.SECTIONS
CHANNEL = "__redis__:invalidate"
PING_EVERY = 5.0  # seconds of silence before the listener checks the connection
BACKOFF = (0.2, 0.5, 1.0, 2.0, 5.0)

T = TypeVar("T")


class FeedCache:
    """Feeds and the section list, read through from ``store``, invalidated by Redis."""

    def __init__(self, where: str | RedisTarget, store: FeedStore, *, max_bytes: int) -> None:
        self._target = as_target(where)
        self._store = store
        self._max_bytes = max_bytes
        self._feeds: dict[str, FeedBytes] = {}  # insertion order: the oldest kept first
        self._sections: dict[str, str] | None = None
        # the last value read of each feed (and of the sections, under ""): only when Redis fails
        self._last: dict[str, Any] = {}
        self._last_bytes = 0
        self._bytes = 0
        self._gen = 0
        self._live = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: redis.Redis | None = None
        self.hits = 0  # answered from memory (approximate: counted without a lock)
        self.misses = 0  # read from Redis
        self.stale = 0  # answered from what was kept because Redis could not be read

    # -- reading -------------------------------------------------------------------------------

    @property
    def live(self) -> bool:
        """True while invalidations arrive, so cached values may be served."""
        return self._live

    def cached(self, feed: str, fmt: str) -> FeedBytes | None:
        """The cached feed, or None; never any I/O (the event loop calls this)."""
        if not self._live:
            return None
        hit = self._feeds.get(f"{feed}:{fmt}")
        if hit is not None:
            self.hits += 1
        return hit

    def cached_sections(self) -> dict[str, str] | None:
        return self._sections if self._live else None

    def feed(self, feed: str, fmt: str) -> FeedBytes | None:
        """The feed, from the cache or read from Redis (and then kept)."""
        hit = self.cached(feed, fmt)
        if hit is not None:
            return hit
        name = f"{feed}:{fmt}"
        return self._read(name, lambda: self._store.feed(feed, fmt), lambda v: self._keep(name, v))

    def sections(self) -> dict[str, str]:
        hit = self.cached_sections()
        if hit is not None:
            return hit
        return self._read("", self._store.sections, self._keep_sections)

    def _read(self, name: str, load: Callable[[], T], keep: Callable[[T], None]) -> T:
        gen = self._gen
        try:
            value = load()
        except StorageUnavailable:
            last: T | None = self._last.get(name)
            if last is None:
                raise
            self.stale += 1
            return last
        with self._lock:
            self.misses += 1
            if value is not None:
                self._remember(name, value)
                if self._live and gen == self._gen:
                    keep(value)
        return value

    def _remember(self, name: str, value: Any) -> None:
        size = _size(value) if isinstance(value, FeedBytes) else 0
        if size > self._max_bytes:
            return
        old = self._last.pop(name, None)
        self._last_bytes += size - (_size(old) if isinstance(old, FeedBytes) else 0)
        self._last[name] = value
        while self._last_bytes > self._max_bytes:  # the oldest go first
            oldest = self._last.pop(next(iter(self._last)))
            self._last_bytes -= _size(oldest) if isinstance(oldest, FeedBytes) else 0

    def _keep(self, name: str, value: FeedBytes) -> None:
        if _size(value) > self._max_bytes:
            return
        self._drop(name)
        self._feeds[name] = value
        self._bytes += _size(value)
        while self._bytes > self._max_bytes:  # the oldest kept go first
            self._drop(next(iter(self._feeds)))

    def _drop(self, name: str) -> None:
        old = self._feeds.pop(name, None)
        if old is not None:
            self._bytes -= _size(old)

    def _keep_sections(self, value: dict[str, str]) -> None:
        self._sections = value

    def stats(self) -> dict[str, int]:
        return {
            "live": int(self._live),
            "feeds": len(self._feeds),
            "bytes": self._bytes,
            "hits": self.hits,
            "misses": self.misses,
            "invalidations": self._gen,
            "stale": self.stale,
        }

    # -- invalidation ----------------------------------------------------------------------------

    def _forget(self, names: list[bytes] | None, *, live: bool | None = None) -> None:
        with self._lock:
            self._gen += 1
            if live is not None:
                self._live = live
            if names is None:
                if live is None:  # FLUSHALL: the last values read are gone too
                    self._last, self._last_bytes = {}, 0
                self._feeds.clear()
                self._sections = None
                self._bytes = 0
                return
            for raw in names:
                name = raw.decode(errors="replace")
                if name == SECTIONS_KEY:
                    self._sections = None
                elif name.startswith(FEED_PREFIX):
                    self._drop(name.removeprefix(FEED_PREFIX))

    def start(self) -> FeedCache:
        """Start listening (a daemon thread); the cache fills only once it is subscribed."""
        if self._max_bytes > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._listen_forever, name="feed-cache", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._forget(None, live=False)

    def _listen_forever(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._listen()
                failures = 0
            except (RedisError, OSError, ValueError) as exc:
                if failures == 0:
                    log.warning("feed cache off until Redis answers again: %s", exc)
                failures += 1
            finally:
                self._forget(None, live=False)
            self._stop.wait(BACKOFF[min(failures, len(BACKOFF) - 1)])

    def _listen(self) -> None:
        if self._client is None:  # one client (and, with Sentinel, one sentinel manager) for good
            # health checks off: a PING sent by the client library would break the subscribed link
            self._client = client(self._target, timeout=PING_EVERY, protocol=2, health_check_interval=0)
        pool = self._client.connection_pool
        conn = pool.get_connection()  # with Sentinel: to the server the sentinels name primary now
        try:
            conn.send_command("CLIENT", "ID")
            own_id = conn.read_response()
            conn.send_command(
                "CLIENT", "TRACKING", "ON", "REDIRECT", own_id, "BCAST",
                "PREFIX", FEED_PREFIX, "PREFIX", SECTIONS_KEY,
            )  # fmt: skip
            conn.read_response()
            conn.send_command("SUBSCRIBE", CHANNEL)
            conn.read_response()
            self._forget(None, live=True)
            log.info("feed cache on: invalidations from Redis (client %s)", own_id)
            quiet_since, pinged = time.monotonic(), False
            while not self._stop.is_set():
                if not conn.can_read(timeout=0.5):
                    quiet = time.monotonic() - quiet_since
                    if pinged and quiet > 2 * PING_EVERY:  # the last ping got no answer: link dead
                        raise ConnectionError("no answer to PING on the invalidation connection")
                    if not pinged and quiet > PING_EVERY:
                        conn.send_command("PING")
                        pinged = True
                    continue
                message = conn.read_response()
                quiet_since, pinged = time.monotonic(), False
                if isinstance(message, list) and len(message) == 3 and message[0] == b"message":
                    names = message[2]
                    self._forget(names if isinstance(names, list) else None)
        finally:
            conn.disconnect()
            pool.release(conn)


def _size(feed: FeedBytes) -> int:
    return len(feed.body) + len(feed.gzipped or b"")
