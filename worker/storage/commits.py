"""The writes of a batch of ingest commits, inside the caller's transaction, grouped by key.

A commit touches about twenty keys (its record, the indexes and archives of each feed it is in,
dirty marks, due times, counters); a batch of fifty written one command at a time cost more CPU
in the client (packing ~1,000 commands) and in Redis than the articles' own JSON. Grouped, a
batch is one command per key it touches. The order of what depends on order is kept: archive
numbers are given in commit order, a section's first name wins.

An id twice in one batch (its writes depend on each other) is written commit by commit.
"""

from __future__ import annotations

import json
from typing import Any

from worker.models import IngestCommit
from worker.storage import keys
from worker.storage.base import now, write_deliveries
from worker.storage.lifecycle import write_lives
from worker.storage.scripts import Scripts

PAYLOAD_TTL = 14 * 86400  # seconds an event payload is kept for its deliveries


def write_commits(p: Any, scripts: Scripts, commits: list[IngestCommit], redeliver_after: float) -> None:
    """Queue every write of ``commits`` on the transaction pipeline ``p`` (after ``multi``)."""
    ids = [c.article.id for c in commits]
    if len(set(ids)) < len(ids):
        for commit in commits:
            write_commits(p, scripts, [commit], redeliver_after)
        return
    at = now()
    for c in commits:
        p.hset(
            keys.article(c.article.id),
            mapping={
                "json": c.article.model_dump_json(),
                "version": c.version,
                "status": c.status,
                "audiences": json.dumps(sorted(c.audiences)),
                "reason": c.reason or "",
                "updated": at,
            },
        )
    write_lives(p, [(c.article.id, c.life_due, c.embargo_end) for c in commits])
    _indexes(p, scripts, commits)
    sections: dict[str, str] = {}
    dirty: dict[str, int] = {}
    for c in commits:
        if c.section:
            sections.setdefault(*c.section)
        for feed in c.dirty:
            dirty[feed] = dirty.get(feed, 0) + 1
        for pkey, body in c.payloads.items():
            p.set(keys.payload(pkey), body, ex=PAYLOAD_TTL)
    for slug, name in sections.items():
        p.hsetnx(keys.SECTIONS, slug, name)
    for feed, count in dirty.items():
        p.hincrby(keys.DIRTY, feed, count)
    deliveries = [d for c in commits for d in c.deliveries]
    write_deliveries(p, deliveries)
    if deliveries:  # the nudge goes out right after this commit; this recovers a lost one
        p.zadd(keys.due("deliver"), {d.id: at + redeliver_after for d in deliveries})
    p.delete(*[keys.staged(i) for i in ids])
    p.zrem(keys.due("ingest"), *ids)
    p.hdel(keys.REJECTED, *ids)  # an input of this id that was refused before no longer says so
    p.hincrby(keys.STATS, "articles_ingested", len(commits))
    p.hincrby(keys.STATS, "events_created", sum(c.events for c in commits))


def _indexes(p: Any, scripts: Scripts, commits: list[IngestCommit]) -> None:
    """The feed indexes each article joins or leaves, and its archive numbers (commit order)."""
    add: dict[str, dict[str, float]] = {}
    remove: dict[str, list[str]] = {}
    archived: list[tuple[str, str]] = []  # (article id, feed suffix)
    for c in commits:
        for suffix, score in c.index_add.items():
            add.setdefault(suffix, {})[c.article.id] = score
            archived.append((c.article.id, suffix))
        for suffix in c.index_remove:
            remove.setdefault(suffix, []).append(c.article.id)
    for suffix, members in add.items():
        p.zadd(keys.index(suffix), members)
    for suffix, members in remove.items():
        p.zrem(keys.index(suffix), *members)
    if archived:
        names = [keys.ARCHIVE_SEQ] + [keys.archive(suffix) for _, suffix in archived]
        scripts.archive_add(keys=names, args=[x for pair in archived for x in pair], client=p)
