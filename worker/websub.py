"""WebSub publish pings: tell each hub that a feed changed (``hub.mode=publish``).

Each ping names the feed as both ``hub.topic`` and ``hub.url`` (hubs differ in which they read).
A hub's 5xx, a timeout or a broken connection is tried again (``ATTEMPTS`` in all); any other
answer (a 4xx: the hub refuses the ping as sent) is final and logged once per hub and round.
"""

from __future__ import annotations

import logging
import time

from feeds import formats
from feeds.feedkey import FeedKey
from worker.net.client import OutgoingError, request
from worker.runtime import Runtime

log = logging.getLogger("syndicate.websub")
ATTEMPTS = 3
PING_SECONDS = 10.0  # one try in all, however slowly the hub answers


def feed_urls(base_url: str, feeds: list[str]) -> list[str]:
    """The URL of every changed feed (``AUDIENCE/SECTION``) in every format: what hubs are told."""
    return [FeedKey.parse(feed).url(base_url, fmt) for feed in feeds for fmt in formats.names()]


def ping_hubs(rt: Runtime, feeds: list[str]) -> int:
    """One ping per changed feed URL and hub, with retries; returns the pings that succeeded."""
    ok = 0
    for hub in rt.settings.hubs:
        refused: dict[int, list[str]] = {}
        for url in feed_urls(rt.settings.base_url, feeds):
            status = _ping(hub, url, rt.settings.allow_private_targets)
            if status is not None and 200 <= status < 300:
                ok += 1
            elif status is not None:
                refused.setdefault(status, []).append(url)
        for status, urls in sorted(refused.items()):
            log.warning(
                "websub hub %s refused %d ping(s) with HTTP %s (not retried), e.g. for %s",
                hub,
                len(urls),
                status,
                urls[0],
            )
    rt.store.incr("websub_pings", ok)
    return ok


def ping_data(url: str) -> dict[str, str]:
    """The form a publish ping sends: the feed as ``hub.topic`` and as ``hub.url``."""
    return {"hub.mode": "publish", "hub.topic": url, "hub.url": url}


def _ping(hub: str, url: str, allow_private: bool) -> int | None:
    """The hub's final HTTP status for one ping; None when every attempt failed or hit a 5xx.

    Guarded like every outgoing request (``worker.net``), each try within ``PING_SECONDS``;
    a forbidden hub is not tried again."""
    for attempt in range(ATTEMPTS):
        try:
            r = request(
                "POST",
                hub,
                data=ping_data(url),
                allow_private=allow_private,
                deadline=PING_SECONDS,
                max_bytes=4096,
                truncate=True,
            )
            if r.status_code < 500:
                return r.status_code  # 2xx: done; 3xx/4xx: the hub will not change its mind
            log.warning("websub hub answered %s for %s", r.status_code, url)
        except OutgoingError as exc:
            log.warning("websub ping failed: %s", exc.kind)
            if exc.kind == "forbidden target":
                return None
        if attempt + 1 < ATTEMPTS:
            time.sleep(0.5 * 2**attempt)
    return None
