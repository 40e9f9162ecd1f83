"""Apply ``SYNDICATE_RETENTION_DAYS``: retire old archive pages and the articles only they held.

The rule is ``worker.retention`` (pure); this reads what it needs, a bounded amount at a time,
and lets ``worker.storage.retention`` retire each page in its own transaction. Run from every
worker's sweeper (``maybe_retire``: at most one step a minute across all hosts, under a lock) and
by ``syndicate retire``. Idempotent: a step that dies half-way leaves whole pages retired or not,
and the next step goes on from the first page not retired.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from feeds import formats
from feeds.feedkey import FeedKey
from worker.export import unexport
from worker.retention import FeedPages, Plan, cutoff, plan_retirement, tombstoned
from worker.runtime import Runtime
from worker.storage import Store

log = logging.getLogger("syndicate.retire")

STEP_EVERY = 60.0  # seconds between the sweepers' retirement steps (the first worker to claim)
STEP_PAGES = 50  # pages retired at most per step (about 5,000 article ids read)
READ_PAGES = 5  # candidate pages read at once per feed
LOCK_TTL = 300.0


@dataclass
class Report:
    pages: int = 0  # archive pages retired (or, dry run, that would be)
    articles: int = 0  # records replaced by tombstones (dry run: articles on those pages)
    feeds: dict[str, int] = field(default_factory=dict)  # suffix -> pages retired
    skipped: str | None = None  # why nothing was looked at: off, busy

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"pages": self.pages, "articles": self.articles, "feeds": self.feeds}
        if self.skipped:
            out["skipped"] = self.skipped
        return out


def retired_status(store: Store, article_id: str) -> dict[str, Any] | None:
    """``GET /articles/{id}`` of a retired article: ``withdrawn`` (it is in no feed or archive
    page), ``"reason": "retired"``, when, and the last version; None if it is not retired."""
    tomb = store.tombstones([article_id]).get(article_id)
    if tomb is None:
        return None
    at = datetime.fromtimestamp(float(tomb["retired"] or 0), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    version = int(tomb["retired_version"]) if tomb["retired_version"].isdigit() else 0
    return {
        "id": article_id,
        "status": "withdrawn",
        "reason": "retired",
        "retired_at": at,
        "version": version,
    }


def maybe_retire(rt: Runtime) -> Report | None:
    """The sweeper's share: one bounded step, at most every ``STEP_EVERY`` seconds in all."""
    if rt.settings.retention_days <= 0 or not rt.store.claim_flag("retire-step", STEP_EVERY):
        return None
    report = retire(rt)
    if report.pages:
        log.info("archive pages retired", extra=report.as_dict())
    return report


def retire(
    rt: Runtime, *, limit: int = STEP_PAGES, dry_run: bool = False, now: float | None = None
) -> Report:
    """Retire at most ``limit`` archive pages (every feed, oldest pages first)."""
    before = cutoff(time.time() if now is None else now, rt.settings.retention_days)
    if before is None:
        return Report(skipped="off: SYNDICATE_RETENTION_DAYS is 0")
    store, owner = rt.store, rt.lock_owner()
    if not dry_run and not store.acquire("retire", owner, ttl=LOCK_TTL):
        return Report(skipped="busy: another process is retiring")
    try:
        suffixes = store.archive_suffixes()
        windows = store.feed_windows(suffixes, rt.settings.feed_window)
        report = Report()
        for suffix in suffixes:
            if report.pages >= limit:
                break
            _feed(rt, suffix, suffixes, windows, before, limit, dry_run, report)
        return report
    finally:
        if not dry_run:
            store.release("retire", owner)


def _feed(
    rt: Runtime,
    suffix: str,
    suffixes: list[str],
    windows: set[str],
    before: float,
    limit: int,
    dry_run: bool,
    report: Report,
) -> None:
    """Retire the pages of one feed that the rule allows, a few pages read at a time."""
    after = 0
    while report.pages < limit:
        feed = rt.store.candidate_pages(suffix, after, min(READ_PAGES, limit - report.pages))
        if not feed.pages:
            return
        records = rt.store.records([aid for ids in feed.pages.values() for aid in ids])
        ages = {aid: r.age for aid, r in records.items() if r.version is not None}
        plan: Plan = plan_retirement([feed], ages, windows, before, limit - report.pages)
        pages = plan.pages.get(suffix, [])
        for page in pages:
            if not dry_run and not _retire_page(rt, feed, page, records, suffixes, report):
                return  # changed meanwhile: the next step looks again
            if dry_run:
                report.pages += 1
                report.articles += len(feed.pages[page])
                report.feeds[suffix] = report.feeds.get(suffix, 0) + 1
        if len(pages) < len(feed.pages):
            return  # a page that must stay: no later page of this feed may go
        after = max(feed.pages)


def _retire_page(
    rt: Runtime, feed: FeedPages, page: int, records: dict, suffixes: list[str], report: Report
) -> bool:
    ids = list(feed.pages[page])
    elsewhere = rt.store.archived_elsewhere(ids, suffixes, but=feed.suffix)
    live = [aid for aid in ids if records.get(aid) is not None and records[aid].version is not None]
    stones = tombstoned(live, elsewhere)
    if not rt.store.retire_page(feed, page, records, stones):
        return False
    key = FeedKey.from_index(feed.suffix).archive(page)
    if rt.settings.export_dir is not None:
        for fmt in formats.names():
            unexport(rt.settings.export_dir, key, fmt)
    report.pages += 1
    report.articles += len(stones)
    report.feeds[feed.suffix] = report.feeds.get(feed.suffix, 0) + 1
    return True
