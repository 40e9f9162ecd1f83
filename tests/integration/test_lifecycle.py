"""The life cycle on real parts: embargoes, kills, expiry (redis-server, a Celery worker, uvicorn,
webhook receivers and a WebSub hub on 127.0.0.1).

"Not before" is asserted from observations made while the embargo was still in the future: the
embargo is placed seconds ahead, every channel is read, and the clock is checked before the
assertion (a machine too slow to look in time fails with that reason, never passes by luck).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support import (
    TOKEN,
    Api,
    Proc,
    Receiver,
    RedisServer,
    base_env,
    free_port,
    run_cli,
    start_web,
    start_worker,
    wait_for,
)
from worker.storage.articles import ARCHIVE_PAGE

FEEDS = [
    f"/feeds/{a}/{s}.{f}"
    for a in ("global", "ru")
    for s in ("all", "life-cycle")
    for f in ("rss", "atom", "json")
]
AHEAD = 8.0  # seconds an embargo is placed ahead: time to ingest it and look at every channel first


@dataclass
class Stack:
    api: Api
    redis: RedisServer
    env: dict[str, str]
    export: Path
    hooks: Receiver  # subscribed for global and ru
    hub: Receiver  # the WebSub hub


@pytest.fixture(scope="module")
def life(tmp_path_factory: pytest.TempPathFactory, redis_binary: str) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("lifecycle")
    server = RedisServer(free_port(), tmp / "redis")
    server.start()
    hub, hooks = Receiver().start(), Receiver().start()
    port = free_port()
    env = base_env(
        server.url,
        SYNDICATE_BASE_URL=f"http://127.0.0.1:{port}",
        SYNDICATE_EXPORT_DIR=str(tmp / "export"),
        SYNDICATE_WEBSUB_HUBS=hub.url,
    )
    worker = start_worker(env, tmp / "worker.log")
    web = start_web(env, tmp / "web.log", port)
    api = Api(port)
    for audience in ("global", "ru"):
        api.subscribe(hooks.url, audience)
    s = Stack(api, server, env, tmp / "export", hooks, hub)
    warm = post(api, title="Warm-up story")  # the start-up renders and their pings are over after it
    wait_for(lambda: all("Warm-up story" in api.get(f).text for f in FEEDS), 60, what="warm-up in every feed")
    wait_for(lambda: len(hooks_for(s, warm)) == 2, 30, what="warm-up webhooks")
    try:
        yield s
    finally:
        web.stop()
        worker.stop()
        hub.stop()
        hooks.stop()
        server.stop()


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def doc(title: str, guid: str | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "guid": guid or uuid.uuid4().hex,
        "source": "rferl",
        "title": title,
        "language": "en",
        "section": "Life Cycle",
        "body_html": f"<p>The body of {title}.</p>",
        **fields,
    }


def post(
    api: Api, title: str, guid: str | None = None, params: dict[str, str] | None = None, **fields: Any
) -> str:
    r = api.post_article(json.dumps(doc(title, guid, **fields)), "application/json", **(params or {}))
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


def hooks_for(s: Stack, aid: str, kind: str | None = None) -> list[dict[str, Any]]:
    with s.hooks.lock:
        bodies = [r.json() for r in s.hooks.received]
    return [b for b in bodies if b["data"]["article"]["id"] == aid and (kind is None or b["type"] == kind)]


def exported(s: Stack) -> str:
    return "".join(p.read_text(errors="replace") for p in s.export.rglob("*") if p.is_file())


def everywhere(s: Stack, title: str) -> dict[str, bool]:
    """Where ``title`` shows: each feed URL, the exported files."""
    seen = {f: title in s.api.get(f).text for f in FEEDS}
    seen["export"] = title in exported(s)
    return seen


def renders(s: Stack) -> float:
    for line in s.api.get("/metrics").text.splitlines():
        if line.startswith("syndicate_feed_renders_total "):
            return float(line.split()[1])
    raise AssertionError("no syndicate_feed_renders_total in /metrics")


def status(api: Api, aid: str, wanted: str, timeout: float = 30) -> dict[str, Any]:
    got = wait_for(lambda: (a := api.article(aid))["status"] == wanted and a, timeout, what=f"{aid} {wanted}")
    return dict(got)


def test_an_embargo_shows_nothing_before_its_instant_and_everything_after(life: Stack) -> None:
    s = life
    title = f"Embargoed story {uuid.uuid4().hex[:8]}"
    lifts = time.time() + AHEAD
    aid = post(s.api, title, embargoed_until=iso(lifts))
    got = status(s.api, aid, "embargoed", AHEAD - 2)
    assert got["embargoed_until"] == datetime.fromtimestamp(int(lifts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    pings, rendered = len(s.hub.received), renders(s)
    looks = []
    while time.time() < lifts - 1.5:  # every channel, again and again, while it is embargoed
        looks.append((everywhere(s, title), len(hooks_for(s, aid)), time.time()))
    seen_pings, seen_renders, looked_until = len(s.hub.received), renders(s), time.time()
    assert looked_until < lifts, "the machine was too slow to look before the embargo lifted"
    assert looks, "no look at the channels before the embargo lifted"
    assert not any(any(where.values()) or hooks for where, hooks, _ in looks), looks[-1]
    assert (seen_pings, seen_renders) == (pings, rendered)  # no render, so no WebSub ping either
    # at the instant: everywhere within seconds
    wait_for(lambda: all(everywhere(s, title).values()), 30, what="the story in every feed and file")
    wait_for(lambda: len(hooks_for(s, aid, "article.published")) == 2, 30, what="published to global and ru")
    assert {b["data"]["article"]["embargoed_until"] for b in hooks_for(s, aid)} == {got["embargoed_until"]}
    assert status(s.api, aid, "published")["article"]["title"] == title
    wait_for(lambda: len(s.hub.received) > pings, 30, what="a WebSub ping")


def test_an_update_moves_the_embargo_later_then_lifts_it(life: Stack) -> None:
    s = life
    title = f"Moved embargo {uuid.uuid4().hex[:8]}"
    guid = uuid.uuid4().hex
    first = time.time() + AHEAD
    aid = post(s.api, title, guid, embargoed_until=iso(first))
    status(s.api, aid, "embargoed", AHEAD - 3)
    later = first + 600
    assert post(s.api, title, guid, embargoed_until=iso(later)) == aid
    # the due time in Redis moved with it
    wait_for(
        lambda: abs((s.redis.client().zscore("syn:due:life", aid) or 0) - later) < 1, 30, what="due moved"
    )
    assert s.api.article(aid)["status"] == "embargoed"
    # the first instant has passed and the sweeper has looked at every due time since
    wait_for(lambda: time.time() > first + 2, AHEAD + 10, what="the first embargo's instant to pass")
    assert not any(everywhere(s, title).values()) and hooks_for(s, aid) == []
    assert s.api.article(aid)["status"] == "embargoed"
    # an update without an embargo lifts it at once
    post(s.api, title, guid)
    wait_for(lambda: all(everywhere(s, title).values()), 30, what="the lifted story everywhere")
    wait_for(lambda: len(hooks_for(s, aid, "article.published")) == 2, 30)


def test_an_update_moves_the_embargo_earlier(life: Stack) -> None:
    s = life
    title = f"Earlier embargo {uuid.uuid4().hex[:8]}"
    guid = uuid.uuid4().hex
    aid = post(s.api, title, guid, embargoed_until=iso(time.time() + 3600))
    status(s.api, aid, "embargoed")
    post(s.api, title, guid, embargoed_until=iso(time.time() + 2))
    wait_for(lambda: all(everywhere(s, title).values()), 30, what="the story everywhere")
    wait_for(lambda: len(hooks_for(s, aid, "article.published")) == 2, 30)


def test_withheld_until_the_source_says_usable(life: Stack) -> None:
    s = life
    title = f"Withheld story {uuid.uuid4().hex[:8]}"
    guid = uuid.uuid4().hex
    aid = post(s.api, title, guid, pub_status="withheld")
    got = status(s.api, aid, "embargoed")
    assert got["embargoed_until"] is None
    marker = post(s.api, f"After withheld {uuid.uuid4().hex[:8]}")  # a later story reaches the feeds...
    wait_for(lambda: len(hooks_for(s, marker)) == 2, 30)
    wait_for(lambda: all(everywhere(s, s.api.article(marker)["article"]["title"]).values()), 30)
    assert not any(everywhere(s, title).values()) and hooks_for(s, aid) == []  # ...the withheld one not
    post(s.api, title, guid, pub_status="usable")
    wait_for(lambda: all(everywhere(s, title).values()), 30, what="the usable story everywhere")


def test_kill_withdraws_everywhere_and_a_reingest_stays_withdrawn(life: Stack) -> None:
    s = life
    title = f"Killed story {uuid.uuid4().hex[:8]}"
    guid = uuid.uuid4().hex
    aid = post(s.api, title, guid)
    wait_for(lambda: all(everywhere(s, title).values()), 30, what="the story everywhere")
    wait_for(lambda: len(hooks_for(s, aid, "article.published")) == 2, 30)
    url = f"{s.api.base}/articles/{aid}"
    assert requests.delete(url, timeout=10).status_code == 401
    assert requests.delete(url, headers={"Authorization": "Bearer wrong"}, timeout=10).status_code == 401
    assert s.api.article(aid)["status"] == "published"  # nothing happened without the token
    r = requests.delete(url, params={"reason": "legal takedown"}, headers=s.api.auth, timeout=10)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["reason"]) == ("withdrawn", "legal takedown")
    wait_for(lambda: not any(everywhere(s, title).values()), 30, what="the story gone from every channel")
    wait_for(lambda: len(hooks_for(s, aid, "article.withdrawn")) == 2, 30, what="withdrawn to global and ru")
    assert {b["data"]["audience"] for b in hooks_for(s, aid, "article.withdrawn")} == {"global", "ru"}
    # the same item again, and a changed version of it: still withdrawn
    post(s.api, title, guid)
    post(s.api, title + " (corrected)", guid)
    got = status(s.api, aid, "withdrawn")
    wait_for(lambda: s.api.article(aid)["article"]["title"] == title + " (corrected)", 30)
    assert got["reason"] == "legal takedown"
    marker = post(s.api, f"After the kill {uuid.uuid4().hex[:8]}")
    wait_for(lambda: len(hooks_for(s, marker)) == 2, 30)
    assert not any(everywhere(s, title).values())
    assert len(hooks_for(s, aid, "article.published")) == 2 and len(hooks_for(s, aid, "article.updated")) == 0
    # unless the request says so
    post(s.api, title + " (corrected)", guid, params={"restore": "1"})
    status(s.api, aid, "published")
    wait_for(lambda: all(everywhere(s, title + " (corrected)").values()), 30, what="restored everywhere")
    wait_for(lambda: len(hooks_for(s, aid, "article.published")) == 4, 30, what="published again")


def test_cli_withdraw_and_undo(life: Stack) -> None:
    s = life
    title = f"CLI killed {uuid.uuid4().hex[:8]}"
    aid = post(s.api, title)
    wait_for(lambda: all(everywhere(s, title).values()), 30, what="the story everywhere")
    out = run_cli(s.env, "withdraw", aid, "--reason", "wrong name")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["status"] == "withdrawn"
    wait_for(lambda: not any(everywhere(s, title).values()), 30, what="gone from every channel")
    assert s.api.article(aid)["reason"] == "wrong name"
    wait_for(lambda: len(hooks_for(s, aid, "article.withdrawn")) == 2, 30)
    out = run_cli(s.env, "withdraw", aid, "--undo")
    assert out.returncode == 0, out.stderr
    wait_for(lambda: all(everywhere(s, title).values()), 30, what="back in every channel")
    assert "reason" not in status(s.api, aid, "published")
    missing = run_cli(s.env, "withdraw", "rferl-no-such-article")
    assert missing.returncode == 2 and "no article with id 'rferl-no-such-article'" in missing.stderr


def test_status_counts_embargoes_and_the_next_to_lift(life: Stack) -> None:
    s = life
    # ``soon`` comes before any embargo the other tests of this stack may leave pending (+600 s, +1 h)
    soon, later = time.time() + 300, time.time() + 3600
    a = post(s.api, f"Status embargo {uuid.uuid4().hex[:8]}", embargoed_until=iso(later))
    b = post(s.api, f"Status embargo {uuid.uuid4().hex[:8]}", embargoed_until=iso(soon))
    status(s.api, a, "embargoed"), status(s.api, b, "embargoed")
    out = run_cli(s.env, "status", "--json")
    assert out.returncode == 0, out.stderr
    embargoed = json.loads(out.stdout)["embargoed"]
    assert embargoed["count"] >= 2 and embargoed["next"]["id"] == b
    text = run_cli(s.env, "status").stdout
    assert f"next to lift: {b} at " in text
    metrics = s.api.get("/metrics").text.splitlines()
    gauge = [x for x in metrics if x.startswith("syndicate_articles_embargoed ")]
    assert gauge and float(gauge[0].split()[1]) == embargoed["count"]


def test_expiry_withdraws_from_the_window_and_an_article_expired_on_arrival_is_never_shown(
    life: Stack,
) -> None:
    s = life
    title = f"Expiring story {uuid.uuid4().hex[:8]}"
    expires = time.time() + AHEAD
    aid = post(s.api, title, expires_at=iso(expires))
    wait_for(lambda: all(everywhere(s, title).values()), 30, what="the story everywhere")
    assert time.time() < expires, "the machine was too slow to see the story before it expired"
    wait_for(lambda: not any(everywhere(s, title).values()), 30, what="the expired story gone")
    wait_for(lambda: len(hooks_for(s, aid, "article.withdrawn")) == 2, 30, what="withdrawn to global and ru")
    assert status(s.api, aid, "withdrawn")["reason"] == "expired"
    old = f"Already expired {uuid.uuid4().hex[:8]}"
    gone = post(s.api, old, expires_at=iso(time.time() - 60))
    assert status(s.api, gone, "withdrawn")["reason"] == "expired"
    marker = post(s.api, f"After expired {uuid.uuid4().hex[:8]}")
    wait_for(lambda: len(hooks_for(s, marker)) == 2, 30)
    wait_for(lambda: all(everywhere(s, s.api.article(marker)["article"]["title"]).values()), 30)
    assert not any(everywhere(s, old).values()) and hooks_for(s, gone) == []


def test_the_token_is_checked_before_anything(life: Stack) -> None:
    r = requests.delete(f"{life.api.base}/articles/no-such", timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    r = requests.delete(
        f"{life.api.base}/articles/no-such", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    assert r.status_code == 404


def test_a_worker_killed_while_an_embargo_lifts_still_publishes_it(
    stack: tuple[Api, Proc, Proc], env: dict[str, str], tmp_path: Path, receiver: Receiver
) -> None:
    api, worker, _ = stack
    api.subscribe(receiver.url, "global", events=["article.published"])
    lifts = time.time() + 20  # time to post and ingest them all on a loaded machine
    many = [post(api, f"Mass embargo {i}", embargoed_until=iso(lifts)) for i in range(60)]
    wait_for(lambda: all(api.article(a)["status"] == "embargoed" for a in many), 30, what="all embargoed")
    assert time.time() < lifts and receiver.received == []
    # 1. killed (SIGKILL, pool and all) as the embargo lifts: once the first of them has gone out
    wait_for(lambda: receiver.received, 30, 0.02, what="the first published webhook")
    restarted: list[Proc] = []
    try:
        kill(worker)
        restarted.append(start_worker(env, tmp_path / "worker.log"))
        wait_for(lambda: set(many) <= set(receiver.webhook_ids()), 60, 0.2, what="every article published")
        assert all(api.article(a)["status"] == "published" for a in many)
        assert all(len(ids) == 1 for ids in receiver.webhook_ids().values()), "an article got two webhook-ids"
        items = wait_for(
            lambda: len(j := api.get("/feeds/global/life-cycle.json").json()["items"]) == len(many) and j, 30
        )
        assert sorted(i["title"] for i in items) == sorted(f"Mass embargo {i}" for i in range(60))
        # 2. no worker at all while an embargo lifts: published once one runs again
        soon = time.time() + 4
        lone = post(api, "Lone embargo", embargoed_until=iso(soon))
        status(api, lone, "embargoed")
        kill(restarted[-1])
        wait_for(lambda: time.time() > soon + 1, 10, what="the lone embargo's instant to pass")
        assert api.article(lone)["status"] == "embargoed"  # nothing but a worker lifts it
        restarted.append(start_worker(env, tmp_path / "worker.log"))
        status(api, lone, "published")
        wait_for(lambda: lone in receiver.webhook_ids(), 30, what="the lone article's webhook")
    finally:
        for proc in restarted:
            proc.stop()


def kill(worker: Proc) -> None:
    worker.kill()  # SIGKILL to the whole process group: main process and pool children
    assert worker.proc is not None
    worker.proc.wait(10)


def test_expiry_and_kill_reach_a_full_archive_page(env: dict[str, str], tmp_path: Path) -> None:
    """Window 5, pages of 100: the expiring story and the killed one sit on full page 1, which
    otherwise never changes; both leave it (and the current feed), the rest of the page stays."""
    port = free_port()
    env.update(SYNDICATE_BASE_URL=f"http://127.0.0.1:{port}", SYNDICATE_FEED_WINDOW="5")
    worker = start_worker(env, tmp_path / "worker.log")
    web = start_web(env, tmp_path / "web.log", port)
    api = Api(port)
    page = "/feeds/global/life-cycle/archive/1.atom"
    try:
        expires = time.time() + 40  # posting a page of stories and rendering it takes a while
        expiring = post(api, "Archived expiring story", expires_at=iso(expires))
        killed = post(api, "Archived killed story")
        ids = [post(api, f"Archived story {n}") for n in range(ARCHIVE_PAGE)]
        wait_for(lambda: api.article(ids[-1])["status"] == "published", 60)
        full = wait_for(lambda: (r := api.get(page)).ok and r.text, 60, what="archive page 1")
        assert time.time() < expires, "the machine was too slow to see the page before the expiry"
        assert "Archived expiring story<" in full and "Archived killed story<" in full
        r = requests.delete(f"{api.base}/articles/{killed}", headers=api.auth, timeout=10)
        assert r.status_code == 200, r.text
        wait_for(
            lambda: "Archived killed story<" not in api.get(page).text, 30, what="killed story off page 1"
        )
        wait_for(
            lambda: "Archived expiring story<" not in api.get(page).text, 60, what="expired story off page 1"
        )
        assert api.article(expiring)["reason"] == "expired"
        kept = api.get(page).text
        assert kept.count("<entry>") == ARCHIVE_PAGE - 2
        everywhere = [
            api.get(f"/feeds/global/{s}.{f}").text
            for s in ("all", "life-cycle")
            for f in ("rss", "atom", "json")
        ]
        assert not any("Archived expiring story" in t or "Archived killed story" in t for t in everywhere)
    finally:
        web.stop()
        worker.stop()
