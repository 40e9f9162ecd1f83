"""Flow control per subscription: one slow receiver never delays the others, and a rate limit
spaces a subscription's requests.

The worker runs as production's webhooks worker does (a threads pool), on every queue. The
assertions are about order and counts at a moment, or loose lower bounds on spacing, never
about how fast anything is.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import (
    Api,
    Received,
    Receiver,
    RedisServer,
    base_env,
    free_port,
    start_web,
    start_worker,
    wait_for,
)
from worker.settings import Settings

MAX_IN_FLIGHT = Settings().webhook_max_in_flight  # the default cap

SLOW_EVENTS = MAX_IN_FLIGHT + 2


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, redis_binary: str) -> Iterator[Api]:
    tmp = tmp_path_factory.mktemp("flow")
    server = RedisServer(free_port(), tmp / "redis")
    server.start()
    port = free_port()
    env = base_env(server.url, SYNDICATE_WEBHOOK_TIMEOUT="30", SYNDICATE_BASE_URL=f"http://127.0.0.1:{port}")
    worker = start_worker(env, tmp / "worker.log", concurrency=MAX_IN_FLIGHT + 4, pool="threads")
    web = start_web(env, tmp / "web.log", port)
    try:
        yield Api(port)
    finally:
        web.stop()
        worker.stop()
        server.stop()


class Gate:
    """A slow receiver: each request waits until the test opens the gate; counts concurrency."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.lock = threading.Lock()
        self.now = self.most = self.done = 0

    def __call__(self, n: int, rec: Received) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        self.open.wait(25)
        time.sleep(0.1)
        with self.lock:
            self.now -= 1
            self.done += 1
        return 200, {}, b"ok"


def post_articles(api: Api, section: str, count: int) -> None:
    for _ in range(count):
        guid = uuid.uuid4().hex
        doc = {
            "guid": guid,
            "source": "example",
            "title": f"Flow {guid[:8]}",
            "section": section,
            "language": "en",
            "body_html": f"<p>{guid}</p>",
        }
        r = api.post_article(json.dumps(doc), "application/json")
        assert r.status_code == 202, r.text


def delivery_rows(api: Api, sub: dict[str, Any]) -> list[dict[str, Any]]:
    return list(api.get(f"/subscriptions/{sub['id']}/deliveries", headers=api.auth).json()["deliveries"])


def all_succeeded(rows: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    return rows if rows and all(d["status"] == "succeeded" for d in rows) else None


def test_a_slow_receiver_does_not_hold_back_a_fast_one(api: Api) -> None:
    gate = Gate()
    slow, fast = Receiver(behaviour=gate).start(), Receiver().start()
    try:
        slow_sub = api.subscribe(slow.url, "global", sections=["flow-slow"])
        fast_sub = api.subscribe(fast.url, "global", sections=["flow-slow"])
        post_articles(api, "flow-slow", SLOW_EVENTS)
        # Every event reaches the fast receiver while the slow one still holds its first requests.
        wait_for(lambda: len(fast.received) == SLOW_EVENTS, 60, what="all events at the fast receiver")
        wait_for(lambda: gate.now == MAX_IN_FLIGHT, 30, what="the slow receiver at its in-flight cap")
        # The fast outcomes are recorded too (a moment after their posts end), not held back by
        # the slow posts that may share their batch.
        fast_rows = wait_for(
            lambda: all_succeeded(delivery_rows(api, fast_sub)), 15, what="fast deliveries recorded"
        )
        assert len(fast_rows) == SLOW_EVENTS
        assert gate.done == 0  # all that while, the slow receiver still holds its first requests
        assert gate.most == MAX_IN_FLIGHT  # never more at once, though more events wait
        gate.open.set()
        wait_for(lambda: gate.done == SLOW_EVENTS, 60, what="the slow receiver catching up")
        rows = wait_for(
            lambda: all_succeeded(delivery_rows(api, slow_sub)), 30, what="slow deliveries recorded"
        )
        assert len(rows) == SLOW_EVENTS
        assert all(d["attempts"] == 1 for d in rows)  # held back is not an attempt
        assert gate.most == MAX_IN_FLIGHT
    finally:
        gate.open.set()
        slow.stop()
        fast.stop()


def test_rate_limit_spaces_the_requests(api: Api) -> None:
    arrivals: list[float] = []

    def note(n: int, rec: Received) -> tuple[int, dict[str, str], bytes]:
        arrivals.append(time.monotonic())
        return 200, {}, b"ok"

    limited = Receiver(behaviour=note).start()
    try:
        sub = api.subscribe(limited.url, "global", sections=["flow-rate"], rate_limit=1)
        post_articles(api, "flow-rate", 4)
        wait_for(lambda: len(arrivals) == 4, 60, what="four rate-limited events")
        gaps = [b - a for a, b in itertools.pairwise(arrivals)]
        assert min(gaps) >= 0.8, gaps  # 1 request per second, loosely
        rows = wait_for(lambda: len(r := delivery_rows(api, sub)) == 4 and r, 30, what="four deliveries")
        assert all(d["attempts"] == 1 and d["status"] == "succeeded" for d in rows)
    finally:
        limited.stop()
