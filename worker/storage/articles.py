"""Articles in Redis: staged input, committed versions, per-audience feed indexes."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import redis
from redis.exceptions import WatchError

from feeds.feedkey import FeedKey
from worker.models import Article, IngestCommit, StoredArticle
from worker.storage import keys
from worker.storage.base import guarded, now, text
from worker.storage.commits import write_commits
from worker.storage.connect import Acked
from worker.storage.scripts import Scripts

# RFC 5005 archive pages: each feed numbers its articles in order of arrival (1, 2, ...); page k
# holds numbers (k-1)*ARCHIVE_PAGE+1 .. k*ARCHIVE_PAGE, so a full page never gains or loses a
# place when later articles arrive. Fixed forever: changing it would renumber every page.
ARCHIVE_PAGE = 100


def archive_page(seq: int) -> int:
    return (seq - 1) // ARCHIVE_PAGE + 1


class ArticleStore(Acked):
    r: redis.Redis
    scripts: Scripts
    redeliver_after: float

    def archive_full_pages(self, suffix: str) -> int:
        """How many archive pages of feed ``suffix`` are full (and so never change)."""
        with guarded(f"read archive {suffix}"):
            count = int(self.r.hget(keys.ARCHIVE_SEQ, suffix) or 0)
        return count // ARCHIVE_PAGE

    def archive_ids(self, suffix: str, page: int) -> list[str]:
        low = (page - 1) * ARCHIVE_PAGE + 1
        with guarded(f"read archive {suffix}"):
            return [
                m.decode() for m in self.r.zrangebyscore(keys.archive(suffix), low, low + ARCHIVE_PAGE - 1)
            ]

    def archive_tail(self, suffix: str, full: int) -> list[str]:
        """The ids after the ``full`` full archive pages of feed ``suffix`` that are still in its index:
        what RFC 5005's subscription document must hold so that no item falls between it and the
        archive."""
        with guarded(f"read archive {suffix}"):
            low = full * ARCHIVE_PAGE + 1
            ids = [m.decode() for m in self.r.zrangebyscore(keys.archive(suffix), low, "+inf")]
            scores = self.r.zmscore(keys.index(suffix), ids) if ids else []
        return [aid for aid, score in zip(ids, scores, strict=True) if score is not None]

    def stage(self, article: Article, *, restore: bool = False) -> None:
        """Keep the normalized article safely in Redis and schedule its ingest.

        Raises ``StorageUnavailable`` when Redis does not confirm (with ``ack_replicas``: when
        that many replicas do not confirm it in time): then nothing may answer 202. The staged
        write may still be there; a retry stages the same id again, which is harmless.
        """
        self.stage_many([article], restore=restore)

    def stage_many(self, articles: list[Article], *, restore: bool = False) -> None:
        """``stage`` for many articles in one transaction: all are kept, or none. ``restore``
        undoes an operator's kill of each, in the same transaction."""
        if not articles:
            return
        due = now() + self.redeliver_after
        what = f"store {len(articles)} article(s)"
        with self.acked(what) as r, guarded(what), r.pipeline(transaction=True) as p:
            for article in articles:
                p.set(keys.staged(article.id), article.model_dump_json())
            p.zadd(keys.due("ingest"), {a.id: due for a in articles})
            p.hdel(keys.REJECTED, *[a.id for a in articles])
            if restore:
                p.delete(*[keys.kill(a.id) for a in articles])
            p.execute()

    def staged(self, article_id: str) -> str | None:
        with guarded(f"read staged {article_id}"):
            return text(self.r.get(keys.staged(article_id)))

    def staged_many(self, ids: list[str]) -> dict[str, str]:
        """The staged inputs of ``ids`` that exist, in one round trip."""
        with guarded("read staged articles"):
            rows = self.r.mget([keys.staged(i) for i in ids]) if ids else []
        return {i: v.decode() for i, v in zip(ids, rows, strict=True) if v is not None}

    def commit_many(self, items: list[tuple[str | None, IngestCommit]]) -> bool:
        """Apply every commit in one transaction, if every staged input is still the one each
        was planned from; False (and nothing written) if any changed meanwhile.

        A ``None`` input is an article committed straight from its normalizer (``syndicate
        ingest``): nothing may be staged for it, and its stored version must still be the one it
        was planned from (none for a first version)."""
        staged_keys = [keys.staged(c.article.id) for _, c in items]
        kill_keys = [keys.kill(c.article.id) for _, c in items]
        fresh = [c for s, c in items if s is None]
        article_keys = [keys.article(c.article.id) for c in fresh]
        # Fresh articles were never staged: this is where they are stored, acknowledged by
        # ``ack_replicas`` replicas as a staging is (StorageUnavailable if they do not confirm).
        what = "commit articles"
        client = self.acked(what) if fresh else contextlib.nullcontext(self.r)
        with client as r, guarded(what), r.pipeline(transaction=True) as p:
            try:
                p.watch(*staged_keys, *kill_keys, *article_keys)
                current = p.mget(staged_keys + kill_keys)
                planned = [s for s, _ in items] + [c.kill for _, c in items]
                if [text(v) for v in current] != planned or not self._versions_are(p, fresh):
                    p.unwatch()
                    return False
                self._apply(p, [c for _, c in items])
                return True
            except WatchError:
                return False

    def confirm_stored(self) -> None:
        """Return once ``ack_replicas`` replicas hold every write made so far (else
        ``StorageUnavailable``): for articles found stored already, whose write was earlier."""
        with self.acked("confirm stored articles") as r, guarded("confirm stored articles"):
            r.ping()

    def _versions_are(self, p: Any, commits: list[IngestCommit]) -> bool:
        """Each article's stored version is the one before its commit's (none for version 1)."""
        if not commits:
            return True
        stored = self.scripts.versions(keys=[keys.article(c.article.id) for c in commits], client=p)
        expected = [str(c.version - 1) if c.version > 1 else None for c in commits]
        return [text(v) if v else None for v in stored] == expected

    def _apply(self, p: Any, commits: list[IngestCommit]) -> None:
        """Write ``commits`` in the transaction of the watching pipeline ``p``."""
        stale = self._stale_archive_pages(p, commits)
        p.multi()
        write_commits(p, self.scripts, commits, self.redeliver_after)
        for feed in stale:
            p.hincrby(keys.DIRTY, feed, 1)
        p.execute()

    def _stale_archive_pages(self, p: Any, commits: list[IngestCommit]) -> list[str]:
        """Full archive pages that lose an article must be rendered again."""
        pages = []
        for commit in commits:  # only withdrawals and section moves remove: rare, so no batching
            for suffix in commit.index_remove:
                seq = p.zscore(keys.archive(suffix), commit.article.id)
                if seq is not None:
                    pages.append(str(FeedKey.from_index(suffix).archive(archive_page(int(seq)))))
        return pages

    def commit_revisit(self, commit: IngestCommit, previous_version: int) -> bool:
        """Apply a revisit (``plan_ingest(..., revisit=True)``) if the article is still at
        ``previous_version`` and no new input is staged for it (its ingest applies the
        configuration itself); False, with nothing written, otherwise."""
        art, staged = keys.article(commit.article.id), keys.staged(commit.article.id)
        kill = keys.kill(commit.article.id)
        with guarded("commit revisit"), self.r.pipeline(transaction=True) as p:
            try:
                p.watch(art, staged, kill)
                if (
                    p.exists(staged)
                    or text(p.hget(art, "version")) != str(previous_version)
                    or text(p.get(kill)) != commit.kill
                ):
                    p.unwatch()
                    return False
                self._apply(p, [commit])
                return True
            except WatchError:
                return False

    def article_id_batches(self, size: int = 500) -> Iterator[list[str]]:
        """The ids of every stored article, ``size`` at a time (SCAN: Redis is never blocked)."""
        prefix, batch = keys.article(""), []
        with guarded("list articles"):
            for k in self.r.scan_iter(match=prefix + "*", count=size):
                batch.append(str(text(k)).removeprefix(prefix))
                if len(batch) >= size:
                    yield batch
                    batch = []
        if batch:
            yield batch

    def drop_staged(self, article_id: str, staged_json: str) -> None:
        """Forget a staged input that needs no work (unchanged re-ingest)."""
        staged_key = keys.staged(article_id)
        with guarded(f"drop staged {article_id}"), self.r.pipeline(transaction=True) as p:
            try:
                p.watch(staged_key)
                if text(p.get(staged_key)) != staged_json:
                    p.unwatch()
                    return
                p.multi()
                p.delete(staged_key)
                p.zrem(keys.due("ingest"), article_id)
                p.hincrby(keys.STATS, "articles_unchanged", 1)
                p.execute()
            except WatchError:
                return

    def reject(self, article_id: str, reason: str) -> None:
        with guarded(f"reject {article_id}"), self.r.pipeline(transaction=True) as p:
            p.hset(keys.REJECTED, article_id, reason)
            p.delete(keys.staged(article_id))
            p.zrem(keys.due("ingest"), article_id)
            p.execute()

    def rejected_reason(self, article_id: str) -> str | None:
        with guarded(f"read {article_id}"):
            return text(self.r.hget(keys.REJECTED, article_id))

    def article(self, article_id: str) -> StoredArticle | None:
        with guarded(f"read article {article_id}"):
            raw = self.r.hgetall(keys.article(article_id))
        return _stored(raw) if b"json" in raw else None  # a tombstone: retired (worker.storage.retention)

    def articles_by_id(self, ids: list[str]) -> dict[str, StoredArticle]:
        """The stored articles among ``ids``, in one round trip."""
        with guarded("read articles"), self.r.pipeline(transaction=False) as p:
            for aid in ids:
                p.hgetall(keys.article(aid))
            rows = p.execute()
        return {aid: _stored(raw) for aid, raw in zip(ids, rows, strict=True) if b"json" in raw}

    def articles(self, ids: list[str]) -> list[StoredArticle]:
        """Many articles in one round trip, in the order asked (missing ones left out)."""
        with guarded("read articles"), self.r.pipeline(transaction=False) as p:
            for aid in ids:
                p.hgetall(keys.article(aid))
            rows = p.execute()
        return [_stored(raw) for raw in rows if b"json" in raw]

    def index_top(self, suffix: str, count: int) -> list[str]:
        with guarded(f"read index {suffix}"):
            return [m.decode() for m in self.r.zrevrange(keys.index(suffix), 0, count - 1)]

    def index_count(self, suffix: str) -> int:
        with guarded(f"count index {suffix}"):
            return int(self.r.zcard(keys.index(suffix)))

    def sections(self) -> dict[str, str]:
        with guarded("read sections"):
            return {k.decode(): v.decode() for k, v in self.r.hgetall(keys.SECTIONS).items()}


def _stored(raw: dict[bytes, bytes]) -> StoredArticle:
    return StoredArticle(
        article=Article.model_validate_json(raw[b"json"]),
        version=int(raw[b"version"]),
        status=raw[b"status"].decode(),
        audiences=json.loads(raw.get(b"audiences", b"[]")),
        reason=raw.get(b"reason", b"").decode() or None,
    )
