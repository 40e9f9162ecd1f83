"""Issue 14: one article never stalls publishing for everyone.

Real parts: redis-server, a prefork Celery worker (as ``syndicate worker`` runs it) and uvicorn.
Before the fix an article with 40,000 tags made every render of its feeds overrun the task's time
limit (feedgen categories were quadratic) and, since dirty feeds rendered in one sorted pass, an
article posted after it never reached any feed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest

from tests.support import Api, Proc, Receiver, base_env, free_port, start_web, start_worker, wait_for
from worker.models import RawInput
from worker.normalize import normalize
from worker.storage import Store

DEADLINE = 1.0  # seconds per feed in the stack below (20 s by default)
LEGACY_TAGS = 400_000  # renders in seconds even when linear and warm: far over DEADLINE (150,000 took
# 0.95 s in a warm process, under the deadline, in some runs)


def cms(guid: str, title: str, section: str, **extra: object) -> bytes:
    doc = {"guid": guid, "source": "isolation", "title": title, "section": section, "body_text": "Text."}
    return json.dumps({**doc, **extra}).encode()


def metric(api: Api, name: str) -> float:
    found = re.search(rf"^{name} ([0-9.e+]+)$", api.get("/metrics").text, re.M)
    return float(found.group(1)) if found else 0.0


def titles(api: Api, path: str) -> list[str]:
    r = api.get(path)
    return [e.title for e in feedparser.parse(r.content).entries] if r.ok else []


@pytest.fixture
def isolated(redis_server: object, tmp_path: Path) -> Iterator[tuple[Api, Proc, str]]:
    url = redis_server.url  # type: ignore[attr-defined]
    port = free_port()
    env = base_env(
        url,
        SYNDICATE_EXPORT_DIR=str(tmp_path / "export"),
        SYNDICATE_FEED_RENDER_DEADLINE=str(DEADLINE),
        SYNDICATE_BASE_URL=f"http://127.0.0.1:{port}",
    )
    worker = start_worker(env, tmp_path / "worker.log")
    web = start_web(env, tmp_path / "web.log", port)
    try:
        yield Api(port), worker, url
    finally:
        web.stop()
        worker.stop()


def test_an_article_with_40000_tags_does_not_hold_the_next_one(isolated: tuple[Api, Proc, str]) -> None:
    api, worker, _ = isolated
    tags = [f"tag-{i}" for i in range(40_000)]
    r = api.post_article(cms("many-tags", "Forty thousand tags", "World", tags=tags), "application/json")
    assert r.status_code == 202, r.text
    big = r.json()["id"]
    r = api.post_article(cms("after", "Posted after the big one", "Asia"), "application/json")
    assert r.status_code == 202, r.text
    api.wait_published(big)
    wait_for(
        lambda: "Posted after the big one" in titles(api, "/feeds/global/asia.rss"),
        30,
        what=f"the later article in its feed; worker log:\n{worker.tail()}",
    )
    entry = wait_for(
        lambda: [e for e in feedparser.parse(api.get("/feeds/global/world.atom").content).entries],
        30,
        what="the big article in its section feed",
    )[0]
    assert len(entry.tags) == 51  # the section and the first 50 tags (the documented cut)


def test_a_feed_that_overruns_backs_off_and_holds_no_other_feed(
    isolated: tuple[Api, Proc, str], tmp_path: Path
) -> None:
    """An article stored before the caps existed (150,000 tags, staged as an older version would
    have) makes its feeds overrun their deadline: they back off and are retried, counted in
    /metrics and logged with the feed key, while an article posted after it reaches its feeds."""
    api, worker, url = isolated
    doc = cms("legacy", "Legacy article with too many tags", "Legacy").decode()
    legacy = normalize(RawInput(format="json", body=doc))
    legacy = legacy.model_copy(update={"tags": [f"legacy tag {i}" for i in range(LEGACY_TAGS)]})
    store = Store(url)
    try:
        store.stage(legacy)  # the sweeper ingests it (its due time), as after an upgrade
    finally:
        store.close()
    api.wait_published(legacy.id, timeout=60)
    wait_for(lambda: metric(api, "syndicate_feed_render_overruns_total") >= 1, 60, what="a first overrun")

    r = api.post_article(cms("later", "Posted after the legacy one", "Asia"), "application/json")
    assert r.status_code == 202, r.text
    for audience in ("global", "ru"):
        wait_for(
            lambda a=audience: "Posted after the legacy one" in titles(api, f"/feeds/{a}/asia.rss"),
            30,
            what=f"the later article in {audience}/asia; worker log:\n{worker.tail()}",
        )
    assert metric(api, "syndicate_feeds_backing_off") >= 1
    assert metric(api, "syndicate_feed_renders_total") >= 2

    log = tmp_path / "worker.log"

    def failures(feed: str) -> list[dict[str, object]]:
        lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
        return [x for x in lines if x.get("feed") == feed and "feed render failed" in str(x.get("msg"))]

    # Retried later, with a longer wait each time: 5 s after the first overrun, then 10 s. Each of
    # the legacy article's feeds overruns; which is retried first depends on the pass, so any will do.
    legacy_feeds = [f"{a}/{s}" for a in ("global", "ru") for s in ("all", "legacy")]

    def retried() -> list[dict[str, object]] | None:
        return next((f for feed in legacy_feeds if len(f := failures(feed)) >= 2), None)

    found = wait_for(retried, 60, what="a retry of a legacy feed that overran again")
    assert "overran its deadline of 1 s; tried again in 5 s (failure 1 in a row)" in str(found[0]["msg"])
    assert "tried again in 10 s (failure 2 in a row)" in str(found[1]["msg"])
    assert metric(api, "syndicate_feed_render_overruns_total") >= 2


HOSTILE_URL = 'https://www.rferl.org/a/"><script>alert(1)</script>.html'
ENCODED_URL = "https://www.rferl.org/a/%22%3E%3Cscript%3Ealert(1)%3C/script%3E.html"


def test_a_long_cyrillic_section_and_a_hostile_url_in_every_channel(
    isolated: tuple[Api, Proc, str], tmp_path: Path, receiver: Receiver
) -> None:
    """A section of 200 Cyrillic letters failed six renders with ``File name too long``; a URL
    with ``"><script>`` came out raw. Both now: bounded export names, encoded URL everywhere."""
    api, worker, _ = isolated
    api.subscribe(receiver.url, "global")
    section = "ж" * 200
    body = cms("long-section", "A long section", section, url=HOSTILE_URL, tags=["Tag\u202e"])
    r = api.post_article(body, "application/json")
    assert r.status_code == 202, r.text
    aid = r.json()["id"]
    assert api.wait_published(aid)["article"]["url"] == ENCODED_URL
    for fmt in ("rss", "atom", "json"):
        feed = wait_for(
            lambda f=fmt: (x := api.get(f"/feeds/global/{section}.{f}")).ok and x,
            30,
            what=f"the long section's {fmt} feed; worker log:\n{worker.tail()}",
        )
        assert ENCODED_URL in feed.text and "<script>" not in feed.text and "\u202e" not in feed.text
    exported = sorted(p.name for p in (tmp_path / "export" / "feeds" / "global").iterdir())
    long_names = [n for n in exported if n.startswith("ж") and not n.endswith(".gz")]
    assert len(long_names) == 3 and all(len(n.encode()) <= 105 for n in long_names), exported
    assert all(f"{n}.gz" in exported for n in long_names), exported  # nginx's gzip_static copy beside
    hook = wait_for(lambda: receiver.received, 30, what="the webhook")[0].json()
    assert hook["data"]["article"]["url"] == ENCODED_URL
    assert "File name too long" not in (tmp_path / "worker.log").read_text()
