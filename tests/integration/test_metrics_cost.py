"""Issue 14: a ``/metrics`` scrape does not load every subscription. With 1,000 subscriptions a
scrape sends Redis a few small commands (seen with MONITOR), none of which reads a subscription
record, and the disabled count stays right as subscriptions change."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support import TOKEN, RedisServer, base_env, free_port, start_web, wait_for
from worker.models import Subscription
from worker.storage import Store

N = 1000
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def base(redis_server: RedisServer, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    proc = start_web(base_env(redis_server.url), tmp_path / "web.log", port)
    yield f"http://127.0.0.1:{port}"
    proc.stop()


def disabled_gauge(base: str) -> float:
    text = requests.get(base + "/metrics", timeout=30).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:  # the gauge, not the counter syndicate_subscriptions_disabled_total
            if sample.name == "syndicate_subscriptions_disabled":
                return float(sample.value)
    raise AssertionError("no syndicate_subscriptions_disabled in /metrics")


class Monitor:
    """Every command Redis receives between ``start`` and ``stop`` (Redis's MONITOR)."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.commands: list[str] = []
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with self.client.monitor() as m:
            for event in m.listen():
                command = str(event["command"])
                if "monitor-begin" in command:
                    self.ready.set()
                elif "monitor-end" in command:
                    return
                elif self.ready.is_set():
                    self.commands.append(command)

    def start(self) -> None:
        self.thread.start()
        wait_for(lambda: self.client.echo("monitor-begin") and self.ready.wait(0.2), 10, what="MONITOR")

    def stop(self) -> list[str]:
        self.client.echo("monitor-end")
        self.thread.join(10)
        assert not self.thread.is_alive()
        return self.commands


def test_a_scrape_costs_the_same_with_a_thousand_subscriptions(base: str, redis_server: RedisServer) -> None:
    store = Store(redis_server.url)
    now = datetime.now(UTC)
    for i in range(N):
        sub = Subscription(
            id=f"sub_{i:04d}", url="http://127.0.0.1:9/hook", audience="global", created_at=now
        )
        store.save_subscription(sub.model_copy(update={"enabled": i % 25 != 0}))
    expected = sum(1 for i in range(N) if i % 25 == 0)
    assert disabled_gauge(base) == expected

    monitor = Monitor(redis_server.client())
    monitor.start()
    assert disabled_gauge(base) == expected
    commands = [c for c in monitor.stop() if "monitor-" not in c]
    assert commands, "MONITOR saw nothing: the scrape did not reach Redis"
    records = [c for c in commands if re.search(r"syn:sub:\S", c)]
    assert not records, f"a scrape read subscription records: {records[0][:200]}"
    widest = max(commands, key=lambda c: len(c.split()))
    assert len(widest.split()) < 20, f"a scrape sent a command over many keys: {widest[:200]}"
    assert len(commands) < 40, commands

    # The count follows every change made through the API.
    def patch(sub_id: str, enabled: bool) -> None:
        r = requests.patch(
            f"{base}/subscriptions/{sub_id}", json={"enabled": enabled}, headers=AUTH, timeout=10
        )
        assert r.status_code == 200, r.text

    patch("sub_0001", False)
    assert disabled_gauge(base) == expected + 1
    patch("sub_0000", True)
    patch("sub_0001", True)
    assert disabled_gauge(base) == expected - 1
    assert requests.delete(f"{base}/subscriptions/sub_0025", headers=AUTH, timeout=10).status_code == 204
    assert disabled_gauge(base) == expected - 2


def test_count_is_built_once_for_a_redis_written_before_it_existed(
    base: str, redis_server: RedisServer
) -> None:
    store = Store(redis_server.url)
    now = datetime.now(UTC)
    for i in range(30):
        sub = Subscription(id=f"sub_{i}", url="http://127.0.0.1:9/hook", audience="ru", created_at=now)
        store.save_subscription(sub.model_copy(update={"enabled": i % 3 != 0}))
    assert disabled_gauge(base) == 10
    # as an older version left it: records only, no disabled set
    redis_server.client().delete("syn:subs-disabled", "syn:subs-disabled-built")
    assert disabled_gauge(base) == 10
    assert redis_server.client().scard("syn:subs-disabled") == 10
