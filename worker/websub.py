"""WebSub publish pings: tell each hub that a feed changed (``hub.mode=publish``)."""

from __future__ import annotations

import logging
import time

import requests

from worker.runtime import Runtime

log = logging.getLogger("syndicate.websub")
ATTEMPTS = 3
FORMATS = ("rss", "atom", "json")


def feed_urls(base_url: str, feeds: list[str]) -> list[str]:
    return [f"{base_url}/feeds/{feed}.{fmt}" for feed in feeds for fmt in FORMATS]


def ping_hubs(rt: Runtime, feeds: list[str]) -> int:
    """One ping per changed feed URL and hub, with retries; returns the pings that succeeded."""
    ok = 0
    for hub in rt.settings.hubs:
        for url in feed_urls(rt.settings.base_url, feeds):
            if _ping(hub, url):
                ok += 1
    rt.store.incr("websub_pings", ok)
    return ok


def _ping(hub: str, url: str) -> bool:
    for attempt in range(ATTEMPTS):
        try:
            r = requests.post(
                hub, data={"hub.mode": "publish", "hub.url": url}, timeout=5, allow_redirects=False
            )
            if 200 <= r.status_code < 300:
                return True
            log.warning("websub hub answered %s for %s", r.status_code, url)
        except requests.RequestException as exc:
            log.warning("websub ping failed: %s", exc.__class__.__name__)
        time.sleep(0.5 * 2**attempt)
    return False
