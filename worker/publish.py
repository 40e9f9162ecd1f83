"""Render dirty feeds from stored articles: once per burst, never on the request path.

A render reads only the newest ``feed_window`` ids of one index and those articles, so its
cost does not grow with the number of stored articles.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from celery.exceptions import SoftTimeLimitExceeded

from feeds import formats
from feeds.feedkey import FeedKey
from feeds.meta import FeedMeta
from feeds.render import render
from worker.cadence import BURST_BACKLOG
from worker.deadline import DeadlineExceeded, deadline
from worker.export import export
from worker.lifecycle import shown_at
from worker.models import Audience, AudienceArticle, StoredArticle
from worker.notices import audience_view
from worker.publish_strict import render_variants
from worker.runtime import Runtime
from worker.storage import StorageUnavailable

log = logging.getLogger("syndicate.publish")
LOCK_TTL = 120  # renewed before each feed
PASS_BUDGET = 60.0  # seconds after which a pass starts no new feed: + one feed's deadline < soft limit


def publish(rt: Runtime) -> list[str]:
    """Render every dirty feed that is due, each on its own; returns the feeds whose bytes changed.

    One feed must never hold the others (issue #14: one article with 40,000 tags made every render
    of its feeds overrun, and since feeds rendered in one sorted pass nothing after them was
    published). Inside a Celery prefork task (time limit 120 s, soft 100 s) that is done in layers:

    1. each feed renders under its own deadline (``SYNDICATE_FEED_RENDER_DEADLINE``, 20 s), enforced
       with ``SIGALRM`` in the task's main thread (``worker.deadline``); where no signal can reach
       (a thread pool) a render that took too long is counted as an overrun once it ends;
    2. a feed that fails or overruns backs off (5 s, doubled each time, at most 10 min; state in
       Redis via ``worker.storage.renders``), counted in ``/metrics`` and logged with its key; its
       dirty mark stays, and the pass goes on with the next feed;
    3. each feed is marked in Redis before it renders, so a pass killed mid-feed (hard time limit,
       OOM) is found by the next one, which backs that feed off instead of dying on it again;
    4. the cheapest feeds go first (the seconds their last render took), feeds marked dirty during
       the pass are rendered in the same pass (but in a burst, ``worker.cadence``, by the next
       one), and no feed starts after ``PASS_BUDGET`` seconds (the rest wait for the next pass),
       so deadline + budget stay under the soft time limit.

    A subprocess per feed would survive code that never returns to the interpreter, but costs a
    fork and a Redis connection per feed on every pass; the marks of (3) cover that case instead.
    """
    store = rt.store
    rt.live_config.refresh()  # the files as they are now: they may be why the feeds are dirty
    owner = rt.lock_owner()  # unique per call: threads share rt.node
    if not store.acquire("publish", owner, ttl=LOCK_TTL):
        return []  # another worker is rendering; the dirty marks stay for the next round
    changed: list[str] = []
    try:
        for feed in store.render_interrupted():  # left by a pass that was killed mid-feed
            _failed(rt, feed, "the render did not finish (the worker was killed or hit its time limit)")
        stop_at = time.monotonic() + PASS_BUDGET
        while time.monotonic() < stop_at:
            todo = _due(rt)
            if not todo:
                break
            for feed, seen in todo:
                if time.monotonic() >= stop_at or not store.acquire("publish", owner, ttl=LOCK_TTL):
                    break
                if _render_isolated(rt, feed, seen, owner):
                    changed.append(feed)
            if store.bursting(BURST_BACKLOG):
                break  # what became dirty meanwhile waits for the next pass (worker.cadence)
    finally:
        store.release("publish", owner)
    if changed and rt.settings.hubs:
        from worker.websub import ping_hubs

        ping_hubs(rt, changed)
    return changed


def _due(rt: Runtime) -> list[tuple[str, int]]:
    """Dirty feeds not backing off, cheapest first (by their last render), then by name."""
    dirty = rt.store.dirty()
    now = time.time()
    waiting = {f for f, at in rt.store.render_retry_times().items() if at > now}
    feeds = [f for f in dirty if f not in waiting]
    costs = rt.store.render_costs(feeds)
    return [(f, dirty[f]) for f in sorted(feeds, key=lambda f: (costs.get(f, 0.0), f))]


def _render_isolated(rt: Runtime, feed: str, seen: int, owner: str) -> bool:
    """Render one feed under its deadline; a failure or overrun backs the feed off, never raises
    (but Redis being away does: nothing can be recorded then)."""
    store = rt.store
    limit = rt.settings.feed_render_deadline
    store.render_started(feed, owner)
    try:
        with deadline(limit) as budget:
            changed = render_feed(rt, feed)
    except DeadlineExceeded:
        _failed(rt, feed, f"overran its deadline of {limit:g} s", limit, overrun=True)
        return False
    except StorageUnavailable:
        _quietly(store.render_unmark, feed)
        raise
    except Exception as exc:  # any fault of one feed stays with that feed
        _failed(rt, feed, f"{type(exc).__name__}: {exc}")
        if isinstance(exc, SoftTimeLimitExceeded):
            raise  # the task is out of time: stop the pass
        return False
    if budget.overran:  # not enforceable here (no signal): finished late, kept, but backed off
        store.clear_dirty(feed, seen)
        late = f"took {budget.elapsed:.1f} s, over its deadline of {limit:g} s"
        _failed(rt, feed, late, budget.elapsed, overrun=True)
        return changed
    store.clear_dirty(feed, seen)
    store.render_succeeded(feed, budget.elapsed)
    store.incr("feed_renders")
    store.incr("feed_render_seconds", budget.elapsed)
    return changed


def _failed(rt: Runtime, feed: str, reason: str, seconds: float | None = None, overrun: bool = False) -> None:
    failures, delay = rt.store.render_failed(feed, reason, seconds)
    rt.store.incr("feed_render_overruns" if overrun else "feed_render_failures")
    log.error(
        "feed render failed: %s; tried again in %.0f s (failure %d in a row)",
        reason,
        delay,
        failures,
        extra={"feed": feed},
    )


def _quietly(fn: Callable[[str], None], arg: str) -> None:
    with contextlib.suppress(StorageUnavailable):
        fn(arg)


def feed_meta(rt: Runtime, audience_id: str, section: str, page: int | None = None) -> FeedMeta | None:
    audience = rt.config.audience(audience_id)
    if audience is None:
        return None
    section_name = "All sections" if section == "all" else rt.store.sections().get(section, section)
    title = f"{audience.title or audience.id} · {section_name}"
    if page is not None:
        title += f" · archive {page}"
    return FeedMeta(
        audience=audience.id,
        section=section,
        title=title,
        base_url=rt.settings.base_url,
        language=audience.language,
        hubs=[] if page is not None else rt.settings.hubs,
        archive=page is not None,
        page=page,
    )


def _views(rt: Runtime, audience: Audience, ids: list[str]) -> list[AudienceArticle]:
    at = datetime.now(UTC)
    today = at.date()
    views = []
    for stored in rt.store.articles(ids):
        # Archive pages keep their ids for good: a killed, expired or embargoed article is left out
        # here, as is one whose time has come before its revisit took it out of the index.
        if hidden_by_life(stored) or not shown_at(stored.article, at):
            continue
        view = audience_view(
            stored.article, audience, rt.config.audiences, rt.config.notices, today, rt.config.publishers
        )
        if view is not None:  # withheld since it was indexed (a rule came into force): leave it out
            views.append(view)
    return views


def hidden_by_life(stored: StoredArticle) -> bool:
    """Embargoed, or withdrawn by its life cycle (killed, expired, canceled; a reason says which)."""
    return stored.status == "embargoed" or (stored.status == "withdrawn" and stored.reason is not None)


def _store_all(
    rt: Runtime, feed: str, meta: FeedMeta, views: list[AudienceArticle], prev: int | None
) -> bool:
    changed = False
    for fmt in formats.names():
        links = {"current_url": meta.model_copy(update={"page": None}).url(fmt)} if meta.page else {}
        if prev:
            links["prev_archive_url"] = meta.page_url(prev, fmt)
        body = render(fmt, meta.model_copy(update=links), views)
        stored = rt.store.store_feed(feed, fmt, body)
        if stored is not None:
            changed = True
            if rt.settings.export_dir is not None:
                export(rt.settings.export_dir, FeedKey.parse(feed), fmt, stored)
    return changed


def render_feed(rt: Runtime, feed: str) -> bool:
    """Render one feed (``audience/section``, or archive page ``audience/section@k``) in every
    format; True if the current feed's bytes changed."""
    key = FeedKey.parse(feed)
    audience, section = rt.config.audience(key.audience), key.section
    if audience is None:
        return False
    suffix = key.index
    full = rt.store.archive_full_pages(suffix)
    retired = rt.store.archive_retired(suffix)  # pages 1..retired are gone (worker.retention)
    if key.page is not None:  # a page that lost an article, or whose previous page retired
        if retired < key.page <= full:
            render_page(rt, audience, section, key.page, retired)
        return False
    # Pages that became full since the last render: each is rendered once and then left alone.
    # They are stored before the current feed, so its prev-archive link never points at nothing.
    page = full
    while page > retired and not rt.store.has_feeds(str(key.archive(page)), formats.names()):
        render_page(rt, audience, section, page, retired)
        page -= 1
    meta = feed_meta(rt, audience.id, section)
    assert meta is not None
    ids = rt.store.index_top(suffix, rt.settings.feed_window)
    # RFC 5005: the subscription document also holds every item not yet on a full archive page,
    # so that the newest window and the archive leave nothing out between them.
    top = set(ids)
    ids += [aid for aid in rt.store.archive_tail(suffix, full) if aid not in top]
    views = _views(rt, audience, ids)
    changed = _store_all(rt, feed, meta, views, full if full > retired else None)
    render_variants(rt, key, audience, meta, views, _store_all)  # SYNDICATE_GEO_UNKNOWN_SUBDIVISION
    return changed


def render_page(rt: Runtime, audience: Audience, section: str, page: int, retired: int = 0) -> None:
    """Archive page ``page``; it links ``prev-archive`` unless the page before is retired."""
    meta = feed_meta(rt, audience.id, section, page)
    assert meta is not None
    key = FeedKey(audience.id, section, page)
    ids = rt.store.archive_ids(key.index, page)
    views = sorted(
        _views(rt, audience, ids),
        key=lambda v: v.article.published_at or datetime.min.replace(tzinfo=UTC),
        reverse=True,
    )
    _store_all(rt, str(key), meta, views, page - 1 if page - 1 > retired else None)
