"""The serving process's feed cache against a real redis-server: filled on read, dropped the moment
Redis reports a write, off while the invalidation connection is down, never planting stale bytes."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from feeds.serve import FeedBytes
from tests.support import RedisServer, wait_for
from worker.storage import StorageUnavailable, Store
from worker.storage.feedcache import FeedCache


@pytest.fixture
def store(redis_server: RedisServer) -> Iterator[Store]:
    s = Store(redis_server.url)
    yield s
    s.close()


@pytest.fixture
def cache(redis_server: RedisServer, store: Store) -> Iterator[FeedCache]:
    c = FeedCache(redis_server.url, store, max_bytes=1 << 20).start()
    wait_for(lambda: c.live, 10, what="feed cache subscribed")
    yield c
    c.stop()


def _body(feed: FeedBytes | None) -> bytes | None:
    return None if feed is None else feed.body


def _kept(cache: FeedCache, feed: str, fmt: str) -> FeedBytes:
    """Read until a copy is kept: a read that overlaps the invalidation of an earlier write is
    (rightly) not kept, and that invalidation may still be on its way when the test reads."""
    return wait_for(lambda: cache.feed(feed, fmt) and cache.cached(feed, fmt), 5, 0.01, f"{feed} kept")


def test_read_through_then_served_from_memory(store: Store, cache: FeedCache) -> None:
    store.store_feed("global/all", "rss", b"<rss>one</rss>")
    assert cache.cached("global/all", "rss") is None
    first = _kept(cache, "global/all", "rss")
    assert first.body == b"<rss>one</rss>" and first.gzipped
    assert cache.cached("global/all", "rss") is first
    misses = cache.stats()["misses"]
    assert misses >= 1 and cache.stats()["hits"] >= 1
    assert cache.feed("global/all", "rss") is first and cache.stats()["misses"] == misses
    assert cache.stats()["bytes"] == len(first.body) + len(first.gzipped or b"")


def test_a_write_by_anyone_drops_the_entry(redis_server: RedisServer, store: Store, cache: FeedCache) -> None:
    store.store_feed("global/all", "atom", b"<feed>v1</feed>")
    store.store_feed("ru/all", "atom", b"<feed>ru</feed>")
    _kept(cache, "global/all", "atom")
    _kept(cache, "ru/all", "atom")
    other = Store(redis_server.url)  # another process's connection, as a worker's would be
    other.store_feed("global/all", "atom", b"<feed>v2</feed>")
    wait_for(lambda: cache.cached("global/all", "atom") is None, 5, 0.01, "invalidation")
    assert _body(cache.cached("ru/all", "atom")) == b"<feed>ru</feed>"  # only that key went
    assert _body(cache.feed("global/all", "atom")) == b"<feed>v2</feed>"
    other.close()


def test_sections_are_cached_and_invalidated(redis_server: RedisServer, cache: FeedCache) -> None:
    client = redis_server.client()
    client.hset("syn:sections", "news", "News")
    wait_for(lambda: cache.sections() and cache.cached_sections(), 5, 0.01, "sections kept")
    assert cache.cached_sections() == {"news": "News"}
    client.hset("syn:sections", "sport", "Sport")
    wait_for(lambda: cache.cached_sections() is None, 5, 0.01, "sections invalidation")
    assert set(cache.sections()) == {"news", "sport"}


def test_flushall_forgets_everything(redis_server: RedisServer, store: Store, cache: FeedCache) -> None:
    store.store_feed("global/all", "json", b"{}")
    _kept(cache, "global/all", "json")
    redis_server.client().flushall()
    wait_for(lambda: cache.cached("global/all", "json") is None, 5, 0.01, "flush invalidation")
    assert cache.feed("global/all", "json") is None


def test_a_read_that_raced_a_write_is_not_kept(store: Store, cache: FeedCache) -> None:
    """The old bytes were read, then a worker wrote new ones before the reader stored its copy:
    the copy must not be kept, or the cache would serve the old feed until the next write."""
    store.store_feed("global/all", "rss", b"<rss>old</rss>")
    before = cache.stats()

    def read_then_someone_writes(feed: str, fmt: str) -> FeedBytes | None:
        old = real(feed, fmt)
        gen = cache._gen
        store.store_feed("global/all", "rss", b"<rss>new</rss>")
        wait_for(lambda: cache._gen != gen, 5, 0.01, "the write's invalidation")
        return old

    real = store.feed
    store.feed = read_then_someone_writes  # type: ignore[method-assign]
    try:
        served = cache.feed("global/all", "rss")
    finally:
        store.feed = real  # type: ignore[method-assign]
    assert _body(served) == b"<rss>old</rss>"  # that one response may be old: it was read first
    assert cache.cached("global/all", "rss") is None  # but it was not kept
    assert _body(cache.feed("global/all", "rss")) == b"<rss>new</rss>"
    assert cache.stats()["misses"] == before["misses"] + 2  # both went to Redis


def test_off_while_redis_is_away_and_back_after(redis_server: RedisServer, store: Store) -> None:
    cache = FeedCache(redis_server.url, store, max_bytes=1 << 20).start()
    try:
        wait_for(lambda: cache.live, 10, what="subscribed")
        store.store_feed("global/all", "rss", b"<rss>kept</rss>")
        _kept(cache, "global/all", "rss")
        redis_server.stop()
        wait_for(lambda: not cache.live, 10, 0.05, "cache off after Redis stopped")
        # While off, nothing is served from memory: a write it could not hear about may happen.
        assert cache.cached("global/all", "rss") is None and cache.stats()["bytes"] == 0
        redis_server.start()  # same AOF directory: the feed is still there
        wait_for(lambda: cache.live, 15, 0.05, "cache on again")
        assert _body(_kept(cache, "global/all", "rss")) == b"<rss>kept</rss>"
    finally:
        cache.stop()


def test_memory_is_bounded_oldest_first(redis_server: RedisServer, store: Store) -> None:
    body = os.urandom(10_000)  # gzip cannot shrink it: each entry costs about 2 x 10 kB
    budget = 7 * len(body)  # room for three entries, not four
    cache = FeedCache(redis_server.url, store, max_bytes=budget).start()
    try:
        wait_for(lambda: cache.live, 10, what="subscribed")
        for name in ("a", "b", "c", "d"):
            heard = cache.stats()["invalidations"]
            store.store_feed(f"global/{name}", "rss", body + name.encode())
            # The write's own invalidation arrives on its own time: once it is in, nothing drops
            # the copy read next, and eviction alone decides what stays.
            wait_for(lambda h=heard: cache.stats()["invalidations"] > h, 5, 0.01, f"{name} invalidated")
            _kept(cache, f"global/{name}", "rss")
        assert cache.cached("global/a", "rss") is None  # the first one made room
        assert all(cache.cached(f"global/{n}", "rss") is not None for n in ("b", "c", "d"))
        assert cache.stats()["feeds"] == 3 and cache.stats()["bytes"] <= budget
    finally:
        cache.stop()


def test_size_zero_turns_it_off(redis_server: RedisServer, store: Store) -> None:
    cache = FeedCache(redis_server.url, store, max_bytes=0).start()
    store.store_feed("global/all", "rss", b"<rss/>")
    assert _body(cache.feed("global/all", "rss")) == b"<rss/>"  # still served, from Redis
    assert not cache.live and cache.cached("global/all", "rss") is None
    cache.stop()


def test_last_read_answers_only_while_redis_cannot(redis_server: RedisServer, store: Store) -> None:
    """A primary gone and none promoted yet: the feed read last is served rather than a 503
    (``stale`` counts it); a feed never read still fails; once Redis answers, Redis wins."""
    cache = FeedCache(redis_server.url, store, max_bytes=1 << 20).start()
    try:
        wait_for(lambda: cache.live, 10, what="subscribed")
        store.store_feed("global/all", "rss", b"<rss>v1</rss>")
        _kept(cache, "global/all", "rss")
        store.store_feed("global/all", "rss", b"<rss>v2</rss>")  # invalidates the cached v1
        wait_for(lambda: cache.cached("global/all", "rss") is None, 5, 0.01, "invalidation")
        assert _body(cache.feed("global/all", "rss")) == b"<rss>v2</rss>"
        store.store_feed("global/all", "json", b"{}")  # never read by this cache
        redis_server.client().hset("syn:sections", "news", "News")
        assert cache.sections() == {"news": "News"}
        redis_server.stop()
        wait_for(lambda: not cache.live, 10, 0.05, "cache off after Redis stopped")
        assert cache.cached("global/all", "rss") is None  # not served as if fresh
        assert _body(cache.feed("global/all", "rss")) == b"<rss>v2</rss>"  # the last read, not v1
        assert cache.sections() == {"news": "News"}
        assert cache.stats()["stale"] == 2
        with pytest.raises(StorageUnavailable):
            cache.feed("global/all", "json")
        redis_server.start()
        store.store_feed("global/all", "rss", b"<rss>v3</rss>")
        assert _body(cache.feed("global/all", "rss")) == b"<rss>v3</rss>"
    finally:
        cache.stop()
