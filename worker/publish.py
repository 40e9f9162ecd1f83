"""Render dirty feeds from stored articles: once per burst, never on the request path.

A render reads only the newest ``feed_window`` ids of one index and those articles, so its
cost does not grow with the number of stored articles.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from feeds.meta import FeedMeta
from feeds.render import render
from worker.models import Audience, AudienceArticle
from worker.notices import audience_view
from worker.publish_strict import render_variants
from worker.runtime import Runtime

log = logging.getLogger("syndicate.publish")
FORMATS = ("rss", "atom", "json")


def publish(rt: Runtime) -> list[str]:
    """Render every dirty feed once; returns the feeds whose bytes changed."""
    store = rt.store
    rt.live_config.refresh()  # the files as they are now: they may be why the feeds are dirty
    owner = rt.lock_owner()  # unique per call: threads share rt.node
    if not store.acquire("publish", owner, ttl=120):
        return []  # another worker is rendering; the dirty marks stay for the next round
    changed: list[str] = []
    try:
        for feed, seen in sorted(store.dirty().items()):
            started = time.perf_counter()
            try:
                if render_feed(rt, feed):
                    changed.append(feed)
            except (OSError, ValueError) as exc:  # e.g. the export folder is not writable
                log.error("feed render failed: %s", exc, extra={"feed": feed})
                store.incr("feed_render_failures")
                continue  # the dirty mark stays: the sweeper tries again
            store.clear_dirty(feed, seen)
            store.incr("feed_renders")
            store.incr("feed_render_seconds", time.perf_counter() - started)
    finally:
        store.release("publish", owner)
    if changed and rt.settings.hubs:
        from worker.websub import ping_hubs

        ping_hubs(rt, changed)
    return changed


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
    today = datetime.now(UTC).date()
    views = []
    for stored in rt.store.articles(ids):
        view = audience_view(
            stored.article, audience, rt.config.audiences, rt.config.notices, today, rt.config.publishers
        )
        if view is not None:  # withheld since it was indexed (a rule came into force): leave it out
            views.append(view)
    return views


def _store_all(
    rt: Runtime, feed: str, meta: FeedMeta, views: list[AudienceArticle], prev: int | None
) -> bool:
    changed = False
    for fmt in FORMATS:
        links = {"current_url": meta.model_copy(update={"page": None}).url(fmt)} if meta.page else {}
        if prev:
            links["prev_archive_url"] = meta.page_url(prev, fmt)
        body = render(fmt, meta.model_copy(update=links), views)
        if rt.store.store_feed(feed, fmt, body):
            changed = True
            if rt.settings.export_dir is not None:
                name = feed.split("/", 1)[1].replace("@", "/archive/")
                export(rt.settings.export_dir, meta.audience, name, fmt, body)
    return changed


def render_feed(rt: Runtime, feed: str) -> bool:
    """Render one feed (``audience/section``, or archive page ``audience/section@k``) in every
    format; True if the current feed's bytes changed."""
    name, _, page_text = feed.partition("@")
    audience_id, _, section = name.partition("/")
    audience = rt.config.audience(audience_id)
    if audience is None:
        return False
    suffix = f"{audience_id}:{section}"
    full = rt.store.archive_full_pages(suffix)
    if page_text:  # an archive page that lost an article (withdrawal): render it again
        page = int(page_text)
        if page <= full:
            render_page(rt, audience, section, page)
        return False
    # Pages that became full since the last render: each is rendered once and then left alone.
    # They are stored before the current feed, so its prev-archive link never points at nothing.
    page = full
    while page >= 1 and not rt.store.has_feed(f"{feed}@{page}", "atom"):
        render_page(rt, audience, section, page)
        page -= 1
    meta = feed_meta(rt, audience_id, section)
    assert meta is not None
    ids = rt.store.index_top(suffix, rt.settings.feed_window)
    views = _views(rt, audience, ids)
    changed = _store_all(rt, feed, meta, views, full or None)
    render_variants(rt, feed, audience, meta, views, _store_all)  # SYNDICATE_GEO_UNKNOWN_SUBDIVISION
    return changed


def render_page(rt: Runtime, audience: Audience, section: str, page: int) -> None:
    meta = feed_meta(rt, audience.id, section, page)
    assert meta is not None
    ids = rt.store.archive_ids(f"{audience.id}:{section}", page)
    views = sorted(
        _views(rt, audience, ids),
        key=lambda v: v.article.published_at or datetime.min.replace(tzinfo=UTC),
        reverse=True,
    )
    _store_all(rt, f"{audience.id}/{section}@{page}", meta, views, page - 1 or None)


def export(directory: Path, audience: str, section: str, fmt: str, body: bytes) -> Path:
    """Write one feed as a static file, atomically (temp file + rename)."""
    target = directory / "feeds" / audience / f"{section}.{fmt}"
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes it 0600: a web server (nginx) must read it
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
