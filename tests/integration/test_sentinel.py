"""Redis Sentinel: the primary dies mid-stream, a replica takes over, nothing acknowledged is lost.

Real parts only: three redis-servers (a primary and two ``replicaof``), three sentinels
(``redis-server sentinel.conf --sentinel``, ``down-after-milliseconds 1000``), a Celery worker,
``syndicate serve`` and a webhook receiver, all on 127.0.0.1. Every process finds the primary
through the sentinels (``REDIS_URL`` points at a port where nothing listens) and, with
``SYNDICATE_ACK_REPLICAS=1``, a ``202`` means a replica holds the article too.

The client behaves as the README asks: on ``503`` it posts the same article again (same id: a
retry is harmless), so in the end every article is answered ``202``, and each must then be
published exactly once and reach the subscriber under exactly one ``webhook-id``.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.integration.test_faults import (
    FEED,
    all_published,
    assert_in_feed_once,
    assert_one_webhook_id_each,
    cms_article,
)
from tests.sentinel_support import Node, SentinelGroup
from tests.support import Api, Proc, Receiver, base_env, free_port, start_web, start_worker, wait_for

ARTICLES = 300
KILL_AFTER = 100  # articles answered 202 before the primary is killed
RETRY_FOR = 90.0  # seconds a client keeps posting one article again after 503s


@pytest.fixture
def group(tmp_path: Path, redis_binary: str) -> Iterator[SentinelGroup]:
    g = SentinelGroup(tmp_path / "sentinel").start()
    yield g
    g.stop()


@pytest.fixture
def ha_stack(group: SentinelGroup, tmp_path: Path) -> Iterator[tuple[Api, dict[str, str]]]:
    port = free_port()
    env = base_env(
        "unused",
        **group.env(),
        SYNDICATE_ACK_REPLICAS="1",
        SYNDICATE_ACK_TIMEOUT_MS="1000",
        SYNDICATE_FEED_WINDOW="1000",
        SYNDICATE_WEBHOOK_RETRY_SCHEDULE="0.5,1,1,1,2,2,2,2",
        SYNDICATE_BASE_URL=f"http://127.0.0.1:{port}",
    )
    procs: list[Proc] = []
    try:
        procs.append(start_worker(env, tmp_path / "worker.log"))
        procs.append(start_web(env, tmp_path / "web.log", port))
        api = Api(port)
        wait_for(lambda: api.get("/readyz").status_code == 200, 60, what="/readyz 200 through the sentinels")
        yield api, env
    finally:
        for p in reversed(procs):
            p.stop()


class Stream(threading.Thread):
    """Posts articles one after the other, each again after a 503 until it gets its 202."""

    def __init__(self, api: Api, tag: str, count: int) -> None:
        super().__init__(daemon=True)
        self.api, self.tag, self.count = api, tag, count
        self.accepted: list[str] = []
        self.statuses: Counter[int] = Counter()
        self.answers: list[tuple[float, float, int]] = []  # (sent, answered, status), monotonic
        self.given_up: list[int] = []

    def run(self) -> None:
        for n in range(self.count):
            deadline = time.monotonic() + RETRY_FOR
            while True:
                sent = time.monotonic()
                try:
                    r = self.api.post_article(cms_article(self.tag, n), "application/json")
                    status = r.status_code
                except requests.RequestException:  # includes the 30 s client timeout: a hang
                    status = 0
                self.answers.append((sent, time.monotonic(), status))
                self.statuses[status] += 1
                if status == 202:
                    self.accepted.append(r.json()["id"])
                    break
                if time.monotonic() > deadline:
                    self.given_up.append(n)
                    break
                time.sleep(0.05)

    def first_202_sent_after(self, t: float) -> float | None:
        return min((done for sent, done, status in self.answers if status == 202 and sent >= t), default=None)


def test_primary_sigkilled_mid_stream_then_rejoins(
    group: SentinelGroup, ha_stack: tuple[Api, dict[str, str]], receiver: Receiver
) -> None:
    api, _ = ha_stack
    api.subscribe(receiver.url, "global", events=["article.published"])
    first = Stream(api, "before", 1)
    first.run()  # the worker at work and a feed the web process has served (and so keeps)
    api.wait_published(first.accepted[0], timeout=60)
    wait_for(lambda: api.get(FEED).json()["items"], 30, what="a feed with an item")
    stream = Stream(api, "failover", ARTICLES)
    stream.start()
    wait_for(lambda: len(stream.accepted) >= KILL_AFTER, 120, 0.01, what=f"{KILL_AFTER} articles accepted")
    old = group.primary()
    killed_at = time.monotonic()
    old.sigkill()
    assert stream.is_alive() and len(stream.accepted) < ARTICLES  # killed mid-stream

    # Until the sentinels name another primary, the feed is still served (from the web cache).
    feed_answers: Counter[int] = Counter()

    def promoted() -> Node | None:
        feed_answers[api.get(FEED).status_code] += 1
        new = group.primary()
        return new if new is not old and new.role() == "master" else None

    new: Node = wait_for(promoted, 60, 0.05, what="a replica promoted by the sentinels")
    assert feed_answers and set(feed_answers) == {200}, feed_answers

    stream.join(ARTICLES * RETRY_FOR)
    assert not stream.is_alive()
    assert stream.given_up == [], f"articles never accepted: {stream.given_up[:5]}"
    assert set(stream.statuses) <= {202, 503}, stream.statuses  # no hang, no other error
    assert stream.statuses[503] > 0, "the stream never met the failover: the test proves nothing"
    assert stream.statuses[202] == ARTICLES == len(set(stream.accepted))
    resumed = stream.first_202_sent_after(killed_at)
    assert resumed is not None
    print(
        f"\nsentinel failover: {resumed - killed_at:.2f} s from SIGKILL of the primary to the next 202 "
        f"({stream.statuses[503]} answers 503 meanwhile)"
    )

    wait_for(lambda: api.get("/readyz").status_code == 200, 60, what="/readyz 200 on the promoted replica")
    # the web process's cache listens for invalidations on the promoted replica
    wait_for(lambda: "syndicate_feed_cache_live 1.0" in api.get("/metrics").text, 60, what="feed cache on")
    all_published(api, stream.accepted, timeout=180)
    assert_in_feed_once(api, first.accepted + stream.accepted)
    assert_one_webhook_id_each(receiver, first.accepted + stream.accepted, timeout=120)

    # The old primary comes back (same port, same AOF): the sentinels make it a replica of the new
    # one, which it copies whole; nothing it held on its own comes back, nothing is lost.
    old.start()

    def rejoined() -> bool:
        info = old.client().info("replication")
        return (
            info["role"] == "slave"
            and info.get("master_link_status") == "up"
            and int(info["master_port"]) == new.port
        )

    wait_for(rejoined, 90, 0.2, what="the old primary a replica of the promoted one")
    assert group.primary() is new
    more = Stream(api, "rejoined", 20)
    more.run()
    assert more.statuses == Counter({202: 20}), more.statuses
    every = first.accepted + stream.accepted + more.accepted
    all_published(api, more.accepted)
    assert_in_feed_once(api, every)
    assert_one_webhook_id_each(receiver, every)
    replica = old.client()
    wait_for(
        lambda: all(replica.exists(f"syn:art:{aid}") for aid in every),
        60,
        0.5,
        what="every article on the rejoined replica",
    )
