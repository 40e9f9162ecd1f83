"""Retirement in Redis (``SYNDICATE_RETENTION_DAYS``): what the rule of ``worker.retention`` reads,
and the retirement of one archive page, in one transaction.

A retired page's number is kept per feed (``ARCHIVE_RETIRED``: suffix -> the last page retired;
pages retire oldest first). A retired article keeps only a tombstone at its record's key
(``retired``, ``retired_version``, ``content_hash``): no ``version`` field, so a commit or revisit
planned from the record before it was retired finds the version changed and writes nothing.
Every command is bounded (a page, a window, a chunk of ids); nothing scans Redis in one go.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
from redis.exceptions import WatchError

from feeds import formats
from feeds.feedkey import FeedKey
from worker.retention import ArticleAge, FeedPages
from worker.storage import keys
from worker.storage.articles import ARCHIVE_PAGE
from worker.storage.base import guarded, now, text
from worker.storage.scripts import Scripts

CHUNK = 200  # ids per command or script call


@dataclass(frozen=True)
class Record:
    """An article on a candidate page as read: its age for the rule, and what its tombstone keeps."""

    age: ArticleAge
    version: str | None  # None: no record (or a tombstone already)
    content_hash: str | None


def _published(value: bytes | None) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.decode().replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


class RetentionStore:
    r: redis.Redis
    scripts: Scripts

    def archive_suffixes(self) -> list[str]:
        """Every feed with an archive (SCAN, so Redis is never blocked), sorted."""
        prefix = keys.archive("")
        with guarded("list archives"):
            return sorted(
                str(text(k)).removeprefix(prefix) for k in self.r.scan_iter(prefix + "*", count=500)
            )

    def archive_retired(self, suffix: str) -> int:
        """Pages 1..N of feed ``suffix`` are retired (0: none)."""
        with guarded(f"read archive {suffix}"):
            return int(self.r.hget(keys.ARCHIVE_RETIRED, suffix) or 0)

    def feed_windows(self, suffixes: Sequence[str], window: int) -> set[str]:
        """Every id in a feed window: the newest ``window`` of each index, and each feed's ids
        after its full archive pages (the current feed holds them)."""
        if not suffixes:
            return set()
        with guarded("read feed windows"), self.r.pipeline(transaction=False) as p:
            for suffix in suffixes:
                p.zrevrange(keys.index(suffix), 0, window - 1)
            p.hmget(keys.ARCHIVE_SEQ, list(suffixes))
            *tops, counts = p.execute()
            for suffix, count in zip(suffixes, counts, strict=True):
                low = int(count or 0) // ARCHIVE_PAGE * ARCHIVE_PAGE + 1
                p.zrangebyscore(keys.archive(suffix), low, "+inf")
            tails = p.execute()
        return {m.decode() for members in [*tops, *tails] for m in members}

    def candidate_pages(self, suffix: str, after: int, count: int) -> FeedPages:
        """Feed ``suffix``: its retired and full page counts, and the ids of at most ``count`` full
        pages after page ``after`` (None: after its last retired page)."""
        with guarded(f"read archive {suffix}"), self.r.pipeline(transaction=False) as p:
            p.hget(keys.ARCHIVE_SEQ, suffix)
            p.hget(keys.ARCHIVE_RETIRED, suffix)
            seq, retired = p.execute()
            full, retired = int(seq or 0) // ARCHIVE_PAGE, int(retired or 0)
            first = max(after, retired) + 1
            numbers = list(range(first, min(full, first + count - 1) + 1))
            for page in numbers:
                low = (page - 1) * ARCHIVE_PAGE + 1
                p.zrangebyscore(keys.archive(suffix), low, low + ARCHIVE_PAGE - 1)
            pages = p.execute() if numbers else []
        ids = {n: [m.decode() for m in page] for n, page in zip(numbers, pages, strict=True)}
        return FeedPages(suffix, first - 1, full, ids)

    def records(self, ids: Sequence[str]) -> dict[str, Record]:
        """Each id's age, version and content hash (a script per chunk: no article JSON leaves Redis)."""
        out: dict[str, Record] = {}
        with guarded("read article ages"):
            for chunk in _chunks(list(ids)):
                rows = self.scripts.ages(
                    keys=[keys.article(a) for a in chunk],
                    args=[keys.staged(""), keys.due("life"), keys.EMBARGOED, *chunk],
                )
                for aid, (version, pub, chash, pending) in zip(chunk, rows, strict=True):
                    age = ArticleAge(_published(pub), bool(pending))
                    out[aid] = Record(age, text(version) if version else None, text(chash) if chash else None)
        return out

    def archived_elsewhere(self, ids: Sequence[str], suffixes: Sequence[str], but: str) -> set[str]:
        """The ids on an archive page of any feed of ``suffixes`` other than ``but``."""
        found: set[str] = set()
        others = [s for s in suffixes if s != but]
        with guarded("read archives"), self.r.pipeline(transaction=False) as p:
            for chunk in _chunks(list(ids)):
                for suffix in others:
                    p.zmscore(keys.archive(suffix), list(chunk))
                rows = p.execute()
                for scores in rows:
                    found |= {aid for aid, s in zip(chunk, scores, strict=True) if s is not None}
        return found

    def retire_page(
        self,
        feed: FeedPages,
        page: int,
        records: dict[str, Record],
        tombstones: Sequence[str],
    ) -> bool:
        """Retire ``page`` of ``feed`` (its ids out of the feed's index and archive, its rendered
        documents deleted, the next page or the current feed marked for rendering: its
        ``prev-archive`` link goes) and replace the records of ``tombstones`` by tombstones, in one
        transaction; only if no article on the page changed since ``records`` were read and none
        has input staged. False (nothing written) otherwise."""
        ids = list(feed.pages[page])
        key = FeedKey.from_index(feed.suffix)
        watched = [keys.article(a) for a in ids] + [keys.staged(a) for a in ids] + [keys.ARCHIVE_RETIRED]
        with guarded(f"retire {key.archive(page)}"), self.r.pipeline(transaction=True) as p:
            try:
                p.watch(*watched)
                if int(p.hget(keys.ARCHIVE_RETIRED, feed.suffix) or 0) != page - 1 or not self._unchanged(
                    p, ids, records
                ):
                    p.unwatch()
                    return False
                p.multi()
                self._write_retirement(p, feed, key, page, ids, records, tombstones)
                p.execute()
                return True
            except WatchError:
                return False

    def _unchanged(self, p: Any, ids: list[str], records: dict[str, Record]) -> bool:
        """In the watching connection: no id has input staged, each is at the version read."""
        for chunk in _chunks(ids):
            found = self.scripts.versions(keys=[keys.article(a) for a in chunk], client=p)
            versions = [None if v in (None, b"retired") else text(v) for v in found]
            if p.exists(*[keys.staged(a) for a in chunk]) or versions != [
                records[a].version if a in records else None for a in chunk
            ]:
                return False
        return True

    def _write_retirement(
        self,
        p: Any,
        feed: FeedPages,
        key: FeedKey,
        page: int,
        ids: list[str],
        records: dict[str, Record],
        tombstones: Sequence[str],
    ) -> None:
        at = now()
        if ids:
            p.zrem(keys.archive(feed.suffix), *ids)
            p.zrem(keys.index(feed.suffix), *ids)
        p.hset(keys.ARCHIVE_RETIRED, feed.suffix, page)
        p.delete(*[keys.feed(str(key.archive(page)), fmt) for fmt in formats.names()])
        following = key.archive(page + 1) if page + 1 <= feed.full else key
        p.hincrby(keys.DIRTY, str(following), 1)
        for aid in tombstones:
            record = records.get(aid)
            p.delete(keys.article(aid))
            p.hset(
                keys.article(aid),
                mapping={
                    "retired": at,
                    "retired_version": record.version if record and record.version else "0",
                    "content_hash": record.content_hash if record and record.content_hash else "",
                },
            )
        p.hincrby(keys.STATS, "archive_pages_retired", 1)
        if tombstones:
            p.hincrby(keys.STATS, "articles_retired", len(tombstones))

    def tombstones(self, ids: Sequence[str]) -> dict[str, dict[str, str]]:
        """The tombstones among ``ids`` (retired articles): id -> {retired, retired_version, content_hash}."""
        with guarded("read tombstones"), self.r.pipeline(transaction=False) as p:
            for aid in ids:
                p.hmget(keys.article(aid), "retired", "retired_version", "content_hash")
            rows = p.execute() if ids else []
        return {
            aid: {"retired": text(r) or "", "retired_version": text(v) or "0", "content_hash": text(h) or ""}
            for aid, (r, v, h) in zip(ids, rows, strict=True)
            if r is not None
        }
