"""SYNDICATE_RETENTION_DAYS: old archive pages stop being served, their articles keep a tombstone.

Real parts: redis-server; articles committed and feeds rendered in this process through the
storage layer and the publish pass (what ``syndicate ingest`` and a worker's task run); then
``syndicate serve``, a Celery worker and a webhook receiver on 127.0.0.1.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lxml import etree

from tests.integration.test_archives import ATOM, _links, _titles
from tests.support import (
    Api,
    Receiver,
    RedisServer,
    base_env,
    free_port,
    run_cli,
    start_web,
    start_worker,
    wait_for,
)
from worker import pipeline, publish
from worker.models import RawInput
from worker.normalize import normalize
from worker.retire import retire
from worker.runtime import Runtime
from worker.settings import Settings
from worker.storage.articles import ARCHIVE_PAGE

OLD = datetime.now(UTC) - timedelta(days=400)
QUIET = 150  # the one article of section "Quiet": its feed's window holds it, and its page


class Quiet:
    """A nudger that sends nothing: the test runs each stage itself."""

    def ingest(self, article_ids: list[str]) -> None: ...
    def publish(self) -> None: ...
    def deliver(self, delivery_ids: list[str]) -> None: ...
    def poll(self, source_ids: list[str]) -> None: ...
    def revisit(self, article_ids: list[str]) -> None: ...


def _doc(n: int, published: datetime) -> dict[str, object]:
    return {
        "guid": f"ret-{n}",
        "source": "rferl",
        "title": f"Retention story number {n}",
        "language": "en",
        "section": "Quiet" if n == QUIET else "Archive Test",
        "published_at": published.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "body_html": f"<p>Body of retention story {n}.</p>" + "<p>More words of the story.</p>" * 40,
    }


def _commit(rt: Runtime, docs: list[dict[str, object]]) -> list[str]:
    """Normalize and commit in order (archive numbers follow commit order), as `syndicate ingest`."""
    articles = [normalize(RawInput(format="json", body=json.dumps(d)), rt.config.notices) for d in docs]
    for i in range(0, len(articles), 50):
        outcome = pipeline.commit_normalized(rt, articles[i : i + 50], Quiet())
        assert outcome is not None and all(v.startswith("version") for v in outcome.values()), outcome
    return [a.id for a in articles]


def _keys_of(r: object, aid: str) -> list[str]:
    """Every index or archive zset that still holds ``aid``."""
    out = []
    for k in r.scan_iter("syn:idx:*"):  # type: ignore[attr-defined]
        if r.zscore(k, aid) is not None:  # type: ignore[attr-defined]
            out.append(k.decode())
    for k in r.scan_iter("syn:arch:*"):  # type: ignore[attr-defined]
        if r.zscore(k, aid) is not None:  # type: ignore[attr-defined]
            out.append(k.decode())
    return out


def test_retirement(redis_server: RedisServer, tmp_path: Path) -> None:
    port = free_port()
    env = base_env(
        redis_server.url,
        SYNDICATE_BASE_URL=f"http://127.0.0.1:{port}",
        SYNDICATE_FEED_WINDOW="5",
        SYNDICATE_RETENTION_DAYS="30",
        SYNDICATE_EXPORT_DIR=str(tmp_path / "export"),
    )
    rt = Runtime.build(Settings.from_env(env))
    r = redis_server.client()
    old = _commit(rt, [_doc(n, OLD + timedelta(minutes=n)) for n in range(250)])
    recent = _commit(rt, [_doc(n, datetime.now(UTC) - timedelta(hours=n)) for n in range(250, 260)])
    publish.publish(rt)
    assert r.hget("syn:archseq", "global:all") == b"260"
    page2_before = rt.store.feed("global/all@2", "atom")
    assert page2_before is not None and "prev-archive" in _links(page2_before.body)
    size_before = r.memory_usage(f"syn:art:{old[0]}")

    # A dry run changes nothing.
    dry = retire(rt, dry_run=True, limit=1000)
    assert dry.pages == dry.feeds["global:all"] + dry.feeds["global:archive-test"] + sum(
        n for s, n in dry.feeds.items() if s.startswith("ru:")
    )
    assert r.hget("syn:art:" + old[0], "json") is not None and not r.exists("syn:archretired")

    report = retire(rt, limit=1000)
    assert report.pages == dry.pages
    retired = {k.decode(): int(v) for k, v in r.hgetall("syn:archretired").items()}
    # global/all: page 1 goes; page 2 holds story 150, which is in the window of section Quiet
    assert retired["global:all"] == 1
    # global/archive-test: page 2 holds stories 200 and 201, in global/all's current feed (its
    # items after its full pages), so only page 1 goes
    assert retired["global:archive-test"] == 1
    assert retire(rt, limit=1000).pages == 0  # idempotent: nothing more to do

    # Stories 0..99 (page 1 of global/all, and a retired page of archive-test): tombstones only.
    for aid in old[:ARCHIVE_PAGE]:
        fields = {k.decode() for k in r.hkeys(f"syn:art:{aid}")}
        assert fields == {"retired", "retired_version", "content_hash"}, (aid, fields)
        assert _keys_of(r, aid) == [], aid
    tomb_size = r.memory_usage(f"syn:art:{old[0]}")
    assert tomb_size < 300 and tomb_size * 4 < size_before, (tomb_size, size_before)
    # Stories 100..249 are on a page still served or in the current feed: kept whole.
    for aid in old[ARCHIVE_PAGE:] + recent:
        assert r.hget(f"syn:art:{aid}", "json") is not None, aid
    assert r.zscore("syn:idx:global:quiet", old[QUIET]) is not None
    stats = {k.decode(): float(v) for k, v in r.hgetall("syn:stats").items()}
    assert stats["articles_retired"] == ARCHIVE_PAGE
    assert stats["archive_pages_retired"] == report.pages

    # The renders after retirement: the oldest page still served links no further back.
    publish.publish(rt)
    page2 = rt.store.feed("global/all@2", "atom")
    assert page2 is not None and "prev-archive" not in _links(page2.body)
    assert _titles(page2.body) == _titles(page2_before.body)  # the same stories, as before
    assert rt.store.feed("global/all@1", "atom") is None
    assert not (tmp_path / "export" / "feeds" / "global" / "all" / "archive" / "1.atom").exists()
    assert (tmp_path / "export" / "feeds" / "global" / "all" / "archive" / "2.atom").exists()
    section = rt.store.feed("global/archive-test@2", "atom")
    assert section is not None and "prev-archive" not in _links(section.body)

    web = start_web(env, tmp_path / "web.log", port)
    receiver = Receiver().start()
    worker = None
    try:
        api = Api(port)
        current = api.get("/feeds/global/all.atom")
        assert current.ok and _links(current.content)["prev-archive"].endswith("/global/all/archive/2.atom")
        titles = _titles(current.content)
        assert "Retention story number 250" in titles and "Retention story number 249" in titles
        served = api.get("/feeds/global/all/archive/2.atom")
        assert (
            served.status_code == 200
            and etree.fromstring(served.content).find("fh:archive", ATOM) is not None
        )
        assert json.loads(api.get("/feeds/global/all/archive/2.json").text)["items"]
        for path in ("/feeds/global/all/archive/1.atom", "/feeds/global/archive-test/archive/1.rss"):
            gone = api.get(path)
            assert gone.status_code == 410 and gone.json()["error"] == "gone", (path, gone.text)
        assert api.get("/feeds/global/all/archive/3.atom").status_code == 404  # not full yet
        # Every story still served is reachable from the current feed, as before retirement.
        reachable = _titles(current.content) + _titles(served.content)
        assert {f"Retention story number {n}" for n in range(ARCHIVE_PAGE, 260)} <= set(reachable)

        status = api.article(old[0])
        assert status["status"] == "withdrawn" and status["reason"] == "retired", status
        assert status["version"] == 1 and status["retired_at"].endswith("Z")

        # Re-ingesting a retired story publishes nothing and sends no webhook.
        worker = start_worker(env, tmp_path / "worker.log")
        api.subscribe(receiver.url, "global")
        r0 = api.post_article(json.dumps(_doc(0, OLD)), "application/json")
        assert r0.status_code == 202 and r0.json()["id"] == old[0]
        wait_for(lambda: api.article(old[0])["status"] != "queued", 30, what="re-ingest taken")
        assert api.article(old[0])["reason"] == "retired"
        fresh = api.post_article(json.dumps(_doc(999, datetime.now(UTC))), "application/json").json()["id"]
        wait_for(lambda: fresh in receiver.webhook_ids(), 30, what="the fresh story's webhook")
        assert old[0] not in receiver.webhook_ids()
        assert set(r.hkeys(f"syn:art:{old[0]}")) == {b"retired", b"retired_version", b"content_hash"}
        assert not r.exists("syn:idx:global:all") or r.zscore("syn:idx:global:all", old[0]) is None

        out = run_cli(env, "retire", "--dry-run")
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["dry_run"] is True
    finally:
        receiver.stop()
        if worker is not None:
            worker.stop()
        web.stop()
