"""Stored feeds' validators against a real redis-server: the Last-Modified second moves forward
with every new content, even within one second, so nginx's "<mtime>-<size>" ETag never repeats."""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import pytest

from feeds.serve import etag_of
from tests.support import RedisServer
from worker.storage import Store

NOW = 1_764_670_000.25


@pytest.fixture
def store(redis_server: RedisServer) -> Iterator[Store]:
    s = Store(redis_server.url)
    yield s
    s.close()


def test_a_new_content_within_the_same_second_gets_a_later_second(store: Store) -> None:
    with mock.patch("worker.storage.feeds.now", return_value=NOW):  # the clock stands still
        first = store.store_feed("global/all", "rss", b"<rss>one</rss>")
        assert first is not None and first.last_modified_ts == int(NOW)
        assert store.store_feed("global/all", "rss", b"<rss>one</rss>") is None  # unchanged
        second = store.store_feed("global/all", "rss", b"<rss>two</rss>")  # same length
        assert second is not None and second.last_modified_ts == int(NOW) + 1
        third = store.store_feed("global/all", "rss", b"<rss>one</rss>")  # back to the first bytes
        assert third is not None and third.last_modified_ts == int(NOW) + 2
    tags = {f.etag for f in (first, second, third)} | {f.gzip_etag for f in (first, second, third)}
    assert len(tags) == 6  # no tag names two representations
    read = store.feed("global/all", "rss")
    assert read == third and read.etag == etag_of(int(NOW) + 2, len(b"<rss>one</rss>"))
    with mock.patch("worker.storage.feeds.now", return_value=NOW + 60):  # later: the clock again
        later = store.store_feed("global/all", "rss", b"<rss>four</rss>")
    assert later is not None and later.last_modified_ts == int(NOW) + 60
    # each format keeps its own
    json_feed = store.store_feed("global/all", "json", b"{}")
    assert json_feed is not None and json_feed.last_modified_ts > NOW + 60
