"""Issue 7 on real parts: upstream feeds served on 127.0.0.1 by the test, polled politely.

The feed server checks the conditional headers itself (``If-None-Match`` / ``If-Modified-Since``
-> ``304``) and records every request, so the tests see what the poller sent.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import ROOT, Proc, Receiver, serve_in_thread, start_worker, stop_server, wait_for
from tests.support import run_cli as cli
from worker import fetch, poller
from worker.runtime import Runtime
from worker.settings import Settings

Reply = tuple[int, dict[str, str], bytes]
LAST_MODIFIED = "Tue, 01 Jun 2021 18:40:00 GMT"
PAGE = (Path(__file__).parent.parent / "data" / "poller" / "page.html").read_bytes()


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    status: int = 0


@dataclass
class FeedServer:
    """An upstream publisher on 127.0.0.1: each path answers with a function of the request."""

    routes: dict[str, Callable[[Seen], Reply]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def url(self, path: str) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def feed(self, path: str, body: bytes, etag: str, last_modified: str = LAST_MODIFIED) -> None:
        """Serve ``body`` with validators; a request carrying them gets ``304``."""

        def reply(req: Seen) -> Reply:
            validators = {"ETag": etag, "Last-Modified": last_modified}
            if req.headers.get("if-none-match") == etag or (
                "if-none-match" not in req.headers and req.headers.get("if-modified-since") == last_modified
            ):
                return 304, validators, b""
            return 200, {**validators, "Content-Type": "application/rss+xml; charset=utf-8"}, body

        self.routes[path] = reply

    def answer(self, path: str, status: int, body: bytes = b"", **headers: str) -> None:
        self.routes[path] = lambda _req: (status, {k.replace("_", "-"): v for k, v in headers.items()}, body)

    def requests(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]

    def start(self) -> FeedServer:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_GET(self) -> None:
                req = Seen(self.path, {k.lower(): v for k, v in self.headers.items()})
                outer.seen.append(req)
                route = outer.routes.get(self.path)
                status, headers, body = route(req) if route else (404, {}, b"no such feed")
                req.status = status
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if "Content-Length" not in headers and headers.get("X-No-Length") is None:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = serve_in_thread(Handler)
        return self

    def stop(self) -> None:
        stop_server(self.server)


def rss(*items: tuple[str, str, str], link: Callable[[str], str] | None = None) -> bytes:
    """An RSS 2.0 feed of (guid, title, body) items."""
    parts = []
    for guid, title, body in items:
        href = f"<link>{link(guid)}</link>" if link else ""
        parts.append(
            f'<item><title>{title}</title><guid isPermaLink="false">{guid}</guid>{href}'
            f"<pubDate>Tue, 01 Jun 2021 18:40:00 GMT</pubDate><description>{body}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Upstream</title>'
        f"<link>https://upstream.example/</link><description>d</description>{''.join(parts)}</channel></rss>"
    ).encode()


A1 = ("a", "Council Approves The Budget", "The city council approved the budget on Tuesday evening.")
A2 = ("a", "Council Approves The Budget", "The city council approved an amended budget on Tuesday night.")
B1 = ("b", "Rivers Rise After Storms", "Rivers rose across the region after two days of heavy storms.")


def write_config(folder: Path, sources: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("audiences.yaml", "notices.yaml"):
        shutil.copy(ROOT / "config" / name, folder / name)
    (folder / "sources.yaml").write_text(yaml.safe_dump({"sources": sources}), encoding="utf-8")
    return folder


def source(sid: str, url: str, **extra: Any) -> dict[str, Any]:
    return {"id": sid, "url": url, "publisher": "upstream", "every": 60, **extra}


class Recorder:
    """A nudger that only remembers what it was asked to send."""

    def __init__(self) -> None:
        self.ingested: list[str] = []
        self.polled: list[str] = []
        self.lock = threading.Lock()

    def ingest(self, article_ids: list[str]) -> None:
        with self.lock:
            self.ingested.extend(article_ids)

    def publish(self) -> None:
        pass

    def deliver(self, delivery_ids: list[str]) -> None:
        pass

    def poll(self, source_ids: list[str]) -> None:
        self.polled.extend(source_ids)

    def revisit(self, article_ids: list[str]) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[FeedServer]:
    server = FeedServer().start()
    yield server
    server.stop()


def runtime_for(env: dict[str, str], sources: list[dict[str, Any]], folder: Path, **extra: str) -> Runtime:
    env["SYNDICATE_CONFIG_DIR"] = str(write_config(folder, sources))
    return Runtime.build(Settings.from_env({**env, **extra}))


def events(receiver: Receiver) -> list[dict[str, Any]]:
    return [r.json() for r in list(receiver.received)]


def test_poll_publishes_then_not_modified_then_updates(
    upstream: FeedServer,
    env: dict[str, str],
    tmp_path: Path,
    receiver: Receiver,
    request: pytest.FixtureRequest,
) -> None:
    upstream.feed("/news.xml", rss(A1, B1), etag='"v1"')
    env["SYNDICATE_CONFIG_DIR"] = str(
        write_config(tmp_path / "cfg", [source("news", upstream.url("/news.xml"))])
    )
    api, _, _ = request.getfixturevalue("stack")
    api.subscribe(receiver.url, "global")

    # 1. first poll: both items are new
    r = cli(env, "poll", "news")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "news: 2 item(s), 2 new or changed"
    first = upstream.requests("/news.xml")[0]
    assert "if-none-match" not in first.headers and "syndicate-poller" in first.headers["user-agent"]
    got = wait_for(lambda: len(events(receiver)) >= 2 and events(receiver), 60, what="two webhooks")
    assert sorted(e["type"] for e in got) == ["article.published", "article.published"]
    titles = {e["data"]["article"]["title"]: e["data"]["article"]["id"] for e in got}
    assert set(titles) == {A1[1], B1[1]}

    # 2. second poll: conditional, the server answers 304
    r = cli(env, "poll", "news")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "news: not modified"
    second = upstream.requests("/news.xml")[1]
    assert second.headers["if-none-match"] == '"v1"'
    assert second.headers["if-modified-since"] == LAST_MODIFIED
    assert second.status == 304

    # 3. one item changed, one did not: one update, nothing for the other
    upstream.feed("/news.xml", rss(A2, B1), etag='"v2"')
    r = cli(env, "poll", "news")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "news: 2 item(s), 1 new or changed"
    assert upstream.requests("/news.xml")[2].status == 200
    updated = wait_for(
        lambda: [e for e in events(receiver) if e["type"] == "article.updated"], 60, what="article.updated"
    )
    assert [e["data"]["article"]["id"] for e in updated] == [titles[A1[1]]]
    assert "amended budget" in updated[0]["data"]["article"]["body_text"]
    assert api.article(titles[A1[1]])["version"] == 2
    assert api.article(titles[B1[1]])["version"] == 1
    assert sorted(e["type"] for e in events(receiver)) == [
        "article.published",
        "article.published",
        "article.updated",
    ]


def test_overlapping_polls_make_no_duplicates(
    upstream: FeedServer, env: dict[str, str], tmp_path: Path
) -> None:
    arrived, gate = threading.Event(), threading.Event()

    def held(_req: Seen) -> Reply:
        arrived.set()
        gate.wait(20)
        return 200, {"Content-Type": "application/rss+xml"}, rss(A1, B1)

    upstream.routes["/slow.xml"] = held
    sources = [source("slow", upstream.url("/slow.xml"))]
    # Two runtimes of one process: the same node name, as two threads of one worker would have.
    rt1 = runtime_for(env, sources, tmp_path / "cfg")
    rt2 = Runtime.build(Settings.from_env(env))
    nudge, outcomes = Recorder(), []
    first = threading.Thread(target=lambda: outcomes.append(poller.poll_source(rt1, "slow", nudge)))
    first.start()
    assert arrived.wait(20)
    assert poller.poll_source(rt2, "slow", nudge) == "already being polled"
    gate.set()
    first.join(30)
    assert outcomes == ["2 item(s), 2 new or changed"]
    assert len(nudge.ingested) == 2 and len(set(nudge.ingested)) == 2
    assert poller.poll_source(rt2, "slow", nudge) == "2 item(s), 0 new or changed"
    assert len(nudge.ingested) == 2

    # Two `syndicate poll` processes at once: one polls, the other stands aside.
    arrived.clear()
    gate.clear()
    upstream.routes["/slow.xml"] = held
    rt1.store.r.delete("syn:source-items:slow")  # forget the items: a duplicate would now show
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "worker.cli", "poll", "slow"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    assert arrived.wait(60)
    done = wait_for(
        lambda: [p for p in procs if p.poll() is not None], 60, what="the second poll to give way"
    )
    assert done[0].communicate()[0].strip() == "slow: already being polled"
    gate.set()
    other = next(p for p in procs if p is not done[0])
    assert other.communicate(timeout=60)[0].strip() == "slow: 2 item(s), 2 new or changed"
    assert len(upstream.requests("/slow.xml")) == 3


def test_a_broken_source_is_reported_and_the_others_go_on(
    upstream: FeedServer, env: dict[str, str], tmp_path: Path
) -> None:
    upstream.feed("/news.xml", rss(A1), etag='"n1"')
    upstream.answer(
        "/broken.xml", 200, b"<html><body>Down for maintenance</body></html>", Content_Type="text/html"
    )
    upstream.answer("/gone.xml", 404)
    sources = [
        source("broken", upstream.url("/broken.xml")),
        source("gone", upstream.url("/gone.xml")),
        source("news", upstream.url("/news.xml")),
    ]
    env["SYNDICATE_CONFIG_DIR"] = str(write_config(tmp_path / "cfg", sources))
    r = cli(env, "poll")
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert lines[0] == "broken: error: not an RSS or Atom feed (text/html is not an XML media type)"
    assert lines[1:] == ["gone: error: http status 404", "news: 1 item(s), 1 new or changed"]
    r = cli(env, "sources", "--json")
    assert r.returncode == 0, r.stderr
    states = {s["id"]: s for s in json.loads(r.stdout)}
    assert states["broken"]["status"] == "error" and states["broken"]["error"].startswith(
        "not an RSS or Atom feed"
    )
    assert states["gone"]["status"] == "error" and states["gone"]["error"] == "http status 404"
    assert states["news"]["status"] == "ok" and states["news"]["error"] is None
    assert states["broken"]["failures"] == 1 and states["broken"]["last_poll"]
    table = cli(env, "sources")
    assert table.returncode == 0, table.stderr
    broken_row = next(line for line in table.stdout.splitlines() if "broken" in line)
    assert "error (1x)" in broken_row and "not an RSS or Atom feed" in broken_row
    assert cli(env, "poll", "nope").returncode == 2

    # repeated failures back off: the second failure waits twice as long as the first
    rt = Runtime.build(Settings.from_env(env))
    before = time.time()
    assert poller.poll_source(rt, "gone", Recorder()) == "error: http status 404"
    state = rt.store.source_state("gone")
    assert state["failures"] == "2"
    assert float(state["next_at"]) - before >= 2 * 60 - 1


def test_retry_after_pushes_the_next_poll(upstream: FeedServer, env: dict[str, str], tmp_path: Path) -> None:
    upstream.answer("/busy.xml", 429, b"slow down", Retry_After="3600")
    later = formatdate(time.time() + 7200, usegmt=True)
    upstream.answer("/maint.xml", 503, b"maintenance", Retry_After=later)
    upstream.feed("/news.xml", rss(A1), etag='"n1"')
    sources = [
        source("busy", upstream.url("/busy.xml")),
        source("maint", upstream.url("/maint.xml")),
        source("news", upstream.url("/news.xml"), every=10),
    ]
    rt = runtime_for(env, sources, tmp_path / "cfg")
    nudge = Recorder()
    now = time.time()
    assert poller.poll_source(rt, "busy", nudge) == "throttled (429), next poll in 3600s"
    assert poller.poll_source(rt, "maint", nudge).startswith("throttled (503)")
    assert float(rt.store.source_state("busy")["next_at"]) >= now + 3590
    assert float(rt.store.source_state("maint")["next_at"]) >= now + 7100
    assert rt.store.source_state("busy")["status"] == "throttled"
    # beat's tick queues only what is due: not the throttled sources
    assert poller.poll_due(rt, nudge) == 1
    assert nudge.polled == ["news"]
    assert poller.poll_due(rt, nudge) == 0  # queued and not run yet: not twice
    assert poller.poll_source(rt, "news", nudge) == "1 item(s), 1 new or changed"
    assert poller.poll_due(rt, nudge) == 0  # polled: next time in 10 s
    rt.store.save_source_state("news", {"next_at": time.time() - 1})
    assert poller.poll_due(rt, nudge) == 1  # due again once its poll has run
    assert nudge.polled == ["news", "news"]


def test_redirects_are_followed_by_hand_and_bounded(
    upstream: FeedServer, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With private targets allowed (the upstream is on 127.0.0.1): same-origin and cross-origin
    redirects are followed by hand, other schemes refused, loops cut. Redirects to forbidden
    addresses without the setting: tests/unit/test_net_guard.py and test_outgoing_guard.py."""
    other = FeedServer().start()
    other.feed("/feed.xml", rss(B1), etag='"o"')
    upstream.feed("/news.xml", rss(A1), etag='"n1"')
    upstream.answer("/moved.xml", 301, Location="/news.xml")
    upstream.answer("/ftp.xml", 302, Location="ftp://127.0.0.1/feed.xml")
    upstream.answer("/loop.xml", 302, Location="/loop.xml")
    upstream.answer("/elsewhere.xml", 302, Location=other.url("/feed.xml"))
    names = ("moved", "ftp", "loop", "elsewhere")
    sources = [source(n, upstream.url(f"/{n}.xml")) for n in names]
    rt = runtime_for(env, sources, tmp_path / "cfg")
    assert rt.settings.allow_private_targets is True
    connected: list[tuple[str, int]] = []
    real = socket.socket.connect

    def recording(sock: socket.socket, address: Any) -> Any:
        connected.append(address)
        return real(sock, address)

    monkeypatch.setattr(socket.socket, "connect", recording)
    try:
        nudge = Recorder()
        assert poller.poll_source(rt, "moved", nudge) == "1 item(s), 1 new or changed"
        assert "must use http or https" in poller.poll_source(rt, "ftp", nudge)
        assert rt.store.source_state("ftp")["error_kind"] == "forbidden target"
        assert poller.poll_source(rt, "loop", nudge) == "error: more than 5 redirects"
        assert rt.store.source_state("loop")["error_kind"] == "redirects"
        assert poller.poll_source(rt, "elsewhere", nudge) == "1 item(s), 1 new or changed"
    finally:
        other.stop()
    assert {host for host, _port in connected} == {"127.0.0.1"}
    assert len(other.seen) == 1
    assert len(nudge.ingested) == 2


def test_responses_over_the_size_cap_are_refused(
    upstream: FeedServer, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = rss(*[(f"g{i}", f"Title {i}", "Body text " * 20) for i in range(40)])
    assert len(big) > 8192
    upstream.answer("/declared.xml", 200, big)
    upstream.answer("/undeclared.xml", 200, big, X_No_Length="1")
    upstream.answer("/small.xml", 200, rss(A1))
    sources = [source(n, upstream.url(f"/{n}.xml")) for n in ("declared", "undeclared", "small")]
    rt = runtime_for(env, sources, tmp_path / "cfg")
    monkeypatch.setattr(fetch, "MAX_BYTES", 8192)
    nudge = Recorder()
    assert "is over the 8192-byte cap" in poller.poll_source(rt, "declared", nudge)
    assert "response over the 8192-byte cap" in poller.poll_source(rt, "undeclared", nudge)
    assert poller.poll_source(rt, "small", nudge) == "1 item(s), 1 new or changed"
    assert len(nudge.ingested) == 1


def test_full_page_fetches_and_normalizes_each_items_page(
    upstream: FeedServer, env: dict[str, str], tmp_path: Path
) -> None:
    upstream.answer("/story/a", 200, PAGE, Content_Type="text/html; charset=utf-8")
    upstream.answer("/story/b", 500, b"oops")
    feed = rss(A1, B1, link=lambda guid: upstream.url(f"/story/{guid}"))
    upstream.feed("/full.xml", feed, etag='"f1"')
    rt = runtime_for(env, [source("full", upstream.url("/full.xml"), full_page=True)], tmp_path / "cfg")
    nudge = Recorder()
    assert poller.poll_source(rt, "full", nudge) == "2 item(s), 1 new or changed, 1 to retry"
    (aid,) = nudge.ingested
    staged = json.loads(rt.store.staged(aid) or "{}")
    assert staged["title"] == "Full Page Story"
    assert "exists only on the item's own page" in staged["body_text"]
    assert A1[2] not in staged["body_text"]
    assert staged["url"] == "https://news.example.org/full-page-story"
    state = rt.store.source_state("full")
    assert state["status"] == "partial" and "/story/b answered 500" in state["error"]

    # the failed page is tried again on the next poll: the feed is read whole (no validators sent)
    upstream.answer(
        "/story/b", 200, PAGE.replace(b"Full Page Story", b"Second Story"), Content_Type="text/html"
    )
    assert poller.poll_source(rt, "full", nudge) == "2 item(s), 1 new or changed"
    assert "if-none-match" not in upstream.requests("/full.xml")[1].headers
    assert [s.path for s in upstream.seen].count("/story/a") == 1
    assert json.loads(rt.store.staged(nudge.ingested[1]) or "{}")["title"] == "Second Story"
    assert rt.store.source_state("full")["status"] == "ok"
    assert poller.poll_source(rt, "full", nudge) == "not modified"


def test_beat_polls_each_source_on_its_schedule(
    upstream: FeedServer, env: dict[str, str], tmp_path: Path
) -> None:
    upstream.feed("/news.xml", rss(A1), etag='"b1"')
    env["SYNDICATE_CONFIG_DIR"] = str(
        write_config(tmp_path / "cfg", [source("news", upstream.url("/news.xml"), every=10)])
    )
    env["SYNDICATE_BEAT_SCHEDULE"] = str(tmp_path / "beat-schedule")
    # as deployed: polls on their own queue (and worker); beat's tick goes to ingest
    worker = start_worker(env, tmp_path / "worker.log", queues="ingest,publish,poll", concurrency=1)
    beat = Proc("beat", ["beat"], env, tmp_path / "beat.log").start()
    try:
        polls = wait_for(
            lambda: len(upstream.requests("/news.xml")) >= 2 and upstream.requests("/news.xml"),
            90,
            what=f"two scheduled polls; beat log:\n{beat.tail() if beat.log.exists() else ''}",
        )
    finally:
        beat.stop()
        worker.stop()
    assert "if-none-match" not in polls[0].headers
    assert polls[1].headers["if-none-match"] == '"b1"' and polls[1].status == 304
