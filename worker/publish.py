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
from worker.notices import audience_view
from worker.runtime import Runtime

log = logging.getLogger("syndicate.publish")
FORMATS = ("rss", "atom", "json")


def publish(rt: Runtime) -> list[str]:
    """Render every dirty feed once; returns the feeds whose bytes changed."""
    store = rt.store
    if not store.acquire("publish", rt.node, ttl=120):
        return []  # another worker is rendering; the dirty marks stay for the next round
    changed: list[str] = []
    try:
        for feed, seen in sorted(store.dirty().items()):
            started = time.perf_counter()
            if render_feed(rt, feed):
                changed.append(feed)
            store.clear_dirty(feed, seen)
            store.incr("feed_renders")
            store.incr("feed_render_seconds", time.perf_counter() - started)
    finally:
        store.release("publish", rt.node)
    if changed and rt.settings.hubs:
        from worker.websub import ping_hubs

        ping_hubs(rt, changed)
    return changed


def feed_meta(rt: Runtime, audience_id: str, section: str) -> FeedMeta | None:
    audience = rt.config.audience(audience_id)
    if audience is None:
        return None
    section_name = "All sections" if section == "all" else rt.store.sections().get(section, section)
    title = f"{audience.title or audience.id} · {section_name}"
    return FeedMeta(
        audience=audience.id,
        section=section,
        title=title,
        base_url=rt.settings.base_url,
        language=audience.language,
        hubs=rt.settings.hubs,
    )


def render_feed(rt: Runtime, feed: str) -> bool:
    """Render one feed (``audience/section``) in every format; True if any bytes changed."""
    audience_id, _, section = feed.partition("/")
    meta = feed_meta(rt, audience_id, section)
    audience = rt.config.audience(audience_id)
    if meta is None or audience is None:
        return False
    store = rt.store
    ids = store.index_top(f"{audience_id}:{section}", rt.settings.feed_window)
    today = datetime.now(UTC).date()
    views = []
    for stored in store.articles(ids):
        view = audience_view(stored.article, audience, rt.config.audiences, rt.config.notices, today)
        if view is not None:  # withheld since it was indexed (a rule came into force): leave it out
            views.append(view)
    changed = False
    for fmt in FORMATS:
        body = render(fmt, meta, views)  # type: ignore[arg-type]
        if store.store_feed(feed, fmt, body):
            changed = True
            if rt.settings.export_dir is not None:
                export(rt.settings.export_dir, audience_id, section, fmt, body)
    return changed


def export(directory: Path, audience: str, section: str, fmt: str, body: bytes) -> Path:
    """Write one feed as a static file, atomically (temp file + rename)."""
    target = directory / "feeds" / audience / f"{section}.{fmt}"
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{section}.{fmt}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
