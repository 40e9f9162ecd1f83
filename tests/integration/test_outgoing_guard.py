"""Issue 14: no origin-based trust, and resolve once, for every outgoing request (real Redis).

Network rule: every server here is on 127.0.0.1. Names are answered by the test's resolver
(``socket.getaddrinfo`` replaced for the test's names only). Where that resolver answers a
public address (93.184.216.34), ``socket.socket.connect`` is replaced too: a connect to a
loopback address goes through, any other is recorded and refused on the spot
(``ConnectionRefusedError``) before the kernel is asked, so no packet leaves 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_poller import A1, FeedServer, Recorder, rss, source, write_config
from tests.support import RedisServer, base_env, wait_for
from worker import deliver, pipeline, poller, subscriptions, websub
from worker.models import RawInput
from worker.runtime import Runtime
from worker.settings import Settings

PUBLIC = "93.184.216.34"  # answered by the test's resolver for a check only: never connected to
PRIVATE_SETTINGS = ("SYNDICATE_ALLOW_PRIVATE_TARGETS", "SYNDICATE_WEBHOOK_ALLOW_PRIVATE")


class CountingListener:
    """A TCP listener on 127.0.0.1 that counts the connections it accepts (and closes them)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.accepted = 0
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def settled(self) -> int:
        """Accepts so far, once every handshake already made has been accepted: one more
        connection of the test's own is made and waited for, then left out of the count."""
        before = self.accepted
        socket.create_connection(("127.0.0.1", self.port), timeout=5).close()
        wait_for(lambda: self.accepted > before, 10, 0.01, "the test's own connection")
        return self.accepted - 1

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def strict_env(redis_server: RedisServer) -> dict[str, str]:
    """Private targets NOT allowed, as in production."""
    env = base_env(redis_server.url)
    for name in PRIVATE_SETTINGS:
        env.pop(name, None)
    return env


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every address a socket of this process connects to; non-loopback ones refused unsent."""
    seen: list[tuple[str, int]] = []
    real = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            seen.append((str(address[0]), int(address[1])))
            if not ipaddress.ip_address(str(address[0]).split("%")[0]).is_loopback:
                raise ConnectionRefusedError(f"test: no connect to {address[0]} (network rule)")
        real(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return seen


def answer_names(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> list[str]:
    """The test's DNS: each name in ``answers`` gets its addresses in turn (the last one from then
    on); any other host (the literal 127.0.0.1 of Redis) goes to the real resolver."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in answers:
            return real(host, port, *args, **kwargs)
        asked.append(host)
        turn = answers[host][min(asked.count(host), len(answers[host])) - 1]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (turn, int(port)))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.fixture
def upstream() -> Iterator[FeedServer]:
    server = FeedServer().start()
    yield server
    server.stop()


def test_a_source_whose_host_resolves_to_loopback_is_refused(
    upstream: FeedServer,
    strict_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    connects: list[tuple[str, int]],
) -> None:
    """The configured feed's own host gets no trust for being configured: its DNS pointing at
    127.0.0.1 (or 169.254.169.254) is refused like any other forbidden target."""
    port = int(upstream.url("/").split(":")[2].split("/")[0])
    answer_names(monkeypatch, {"feeds.upstream.example": ["127.0.0.1"]})
    upstream.feed("/news.xml", rss(A1), etag='"n1"')
    url = f"http://feeds.upstream.example:{port}/news.xml"
    strict_env["SYNDICATE_CONFIG_DIR"] = str(write_config(tmp_path / "cfg", [source("inside", url)]))
    rt = Runtime.build(Settings.from_env(strict_env))
    assert rt.settings.allow_private_targets is False

    before = time.time()
    out = poller.poll_source(rt, "inside", Recorder())
    assert out == (
        f"error: {url}: forbidden target: webhook url host 'feeds.upstream.example' resolves to "
        "127.0.0.1, a loopback address"
    )
    state = rt.store.source_state("inside")
    assert state["status"] == "error" and state["error_kind"] == "forbidden target"
    assert state["failures"] == "1" and float(state["next_at"]) >= before + 60  # backed off: every=60
    assert upstream.seen == []
    assert [c for c in connects if c[1] == port] == []  # refused before any packet

    # The setting (either name) lifts the rule for every outgoing request, polls included.
    for name in PRIVATE_SETTINGS:
        rt.store.r.delete("syn:source:inside", "syn:source-items:inside")
        allowing = Runtime.build(Settings.from_env({**strict_env, name: "1"}))
        assert poller.poll_source(allowing, "inside", Recorder()) == "1 item(s), 1 new or changed"
    assert len(upstream.seen) == 2


def test_websub_hubs_are_checked_like_every_target(strict_env: dict[str, str]) -> None:
    hub = CountingListener()
    try:
        rt = Runtime.build(
            Settings.from_env({**strict_env, "SYNDICATE_WEBSUB_HUBS": f"http://127.0.0.1:{hub.port}/hub"})
        )
        assert websub.ping_hubs(rt, ["global/all"]) == 0
        assert hub.settled() == 0
    finally:
        hub.close()


class Deliveries:
    """A nudger that keeps the delivery ids it is asked to send."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    def ingest(self, article_ids: list[str]) -> None:
        pass

    def publish(self) -> None:
        pass

    def deliver(self, delivery_ids: list[str]) -> None:
        self.ids.extend(delivery_ids)

    def poll(self, source_ids: list[str]) -> None:
        pass

    def revisit(self, article_ids: list[str]) -> None:
        pass


def test_a_webhook_host_that_rebinds_to_loopback_never_gets_a_handshake(
    strict_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, connects: list[tuple[str, int]]
) -> None:
    """First lookup public, second 127.0.0.1: each attempt resolves once and connects to the
    address it checked, so the listener on 127.0.0.1 never sees a handshake (before the fix the
    attempt checked the first answer and connected to the second: a blind port scanner)."""
    target = CountingListener()
    try:
        rt = Runtime.build(Settings.from_env(strict_env))
        url = f"http://hooks.rebind.example:{target.port}/hook"
        asked = answer_names(monkeypatch, {"hooks.rebind.example": [PUBLIC]})
        subscriptions.create(rt, subscriptions.SubscriptionIn(url=url, audience="global"))
        # From the first attempt on: first answer public, then 127.0.0.1.
        asked = answer_names(monkeypatch, {"hooks.rebind.example": [PUBLIC, "127.0.0.1"]})
        doc = {
            "guid": "rebind-1",
            "source": "example",
            "title": "Rebind",
            "language": "en",
            "body_html": "<p>x</p>",
        }
        article = pipeline.accept(rt, RawInput(format="json", body=json.dumps(doc)))
        nudge = Deliveries()
        pipeline.ingest(rt, article.id, nudge)
        (delivery_id,) = nudge.ids

        assert deliver.attempt_many(rt, [delivery_id])[0].startswith("failed")
        first = rt.store.delivery(delivery_id)
        assert first is not None and first.last_error == "connection refused"  # the test's connect

        def toward_target() -> list[tuple[str, int]]:  # Redis is on 127.0.0.1 too: left out
            return [c for c in connects if c[1] == target.port]

        assert toward_target() == [(PUBLIC, target.port)]  # the checked address, refused unsent
        assert asked == ["hooks.rebind.example"]  # one lookup for the check and the connect

        def second_attempt() -> Any:
            deliver.attempt_many(rt, [delivery_id])[0]
            d = rt.store.delivery(delivery_id)
            return d is not None and d.attempts == 2 and d

        second = wait_for(second_attempt, 30, 0.1, "the second attempt (retry due after 0.5 s)")
        assert second.last_error == (
            "forbidden target: webhook url host 'hooks.rebind.example' resolves to 127.0.0.1, "
            "a loopback address"
        )
        assert toward_target() == [(PUBLIC, target.port)]
        assert target.settled() == 0
    finally:
        target.close()
