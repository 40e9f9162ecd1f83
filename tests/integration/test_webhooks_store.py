"""HookStore against a real redis-server: admission (in-flight cap, rate limit), atomic
subscription updates, the status filter of the delivery log and its retention."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.support import RedisServer
from worker.models import Delivery, Subscription
from worker.storage import Store

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(redis_server: RedisServer) -> Iterator[Store]:
    s = Store(redis_server.url)
    yield s
    s.close()


def delivery(n: int, status: str = "succeeded", sub: str = "sub_1") -> Delivery:
    at = T0 + timedelta(seconds=n)
    return Delivery(
        id=f"dlv_{n:04d}",
        event_id=f"evt_{n}",
        webhook_id=f"msg_{n}",
        subscription_id=sub,
        type="article.published",
        audience="global",
        article_id=f"art_{n}",
        payload_key=f"evt_{n}",
        status=status,  # type: ignore[arg-type]
        created_at=at,
        updated_at=at,
    )


def test_in_flight_cap_holds_across_callers(store: Store) -> None:
    admitted = [store.admit("sub_1", f"d{i}", max_in_flight=3, rate_limit=None, lease=30) for i in range(3)]
    assert admitted == [0.0, 0.0, 0.0]
    assert store.admit("sub_1", "d3", max_in_flight=3, rate_limit=None, lease=30) < 0
    assert store.admit("sub_1", "d0", max_in_flight=3, rate_limit=None, lease=30) == 0.0  # holder again
    assert store.admit("sub_2", "e0", max_in_flight=3, rate_limit=None, lease=30) == 0.0  # per subscription
    store.release_slot("sub_1", "d1")
    assert store.admit("sub_1", "d3", max_in_flight=3, rate_limit=None, lease=30) == 0.0
    assert store.in_flight("sub_1") == 3


def test_a_slot_of_a_dead_worker_expires_with_its_lease(store: Store) -> None:
    assert store.admit("sub_1", "d0", max_in_flight=1, rate_limit=None, lease=0.3) == 0.0
    assert store.admit("sub_1", "d1", max_in_flight=1, rate_limit=None, lease=0.3) < 0
    time.sleep(0.4)  # the holder never released (killed): its lease runs out
    assert store.admit("sub_1", "d1", max_in_flight=1, rate_limit=None, lease=0.3) == 0.0


def test_rate_limit_is_a_token_bucket(store: Store) -> None:
    results = [store.admit("sub_1", f"d{i}", max_in_flight=100, rate_limit=2, lease=30) for i in range(3)]
    assert results[:2] == [0.0, 0.0]  # a burst of one second's worth
    assert 0 < results[2] <= 0.5  # then one token every 0.5 s
    assert store.in_flight("sub_1") == 2  # a refused attempt holds no slot


def test_update_subscription_applies_to_the_current_record(store: Store) -> None:
    sub = Subscription(
        id="sub_1", url="https://example.org/h", audience="global", created_at=T0, secrets=["a"]
    )
    store.save_subscription(sub)
    stale = store.subscription("sub_1")
    assert stale is not None
    store.save_subscription(stale.model_copy(update={"secrets": ["b", "a"]}))  # a rotation meanwhile
    updated = store.update_subscription("sub_1", lambda s: s.model_copy(update={"failing_since": T0}))
    assert updated is not None
    current = store.subscription("sub_1")
    assert current is not None and current.secrets == ["b", "a"] and current.failing_since == T0
    assert store.update_subscription("sub_1", lambda s: None) is None
    assert store.update_subscription("sub_gone", lambda s: s) is None


def test_status_filter_finds_old_deliveries_past_the_first_page(store: Store) -> None:
    store.save_delivery(delivery(0, "dead"))
    for n in range(1, 251):
        store.save_delivery(delivery(n, "succeeded"))
    assert [d.id for d in store.deliveries("sub_1", limit=10, status="dead")] == ["dlv_0000"]
    newest = store.deliveries("sub_1", limit=3)
    assert [d.id for d in newest] == ["dlv_0250", "dlv_0249", "dlv_0248"]
    assert len(store.deliveries("sub_1", limit=1000, status="succeeded")) == 250
    assert store.deliveries("sub_1", limit=10, status="pending") == []


def test_retention_keeps_the_newest_and_anything_still_due(store: Store) -> None:
    store.save_delivery(delivery(0, "failed"), due_at=time.time() + 60)  # old, but a retry is due
    for n in range(1, 8):
        store.save_delivery(delivery(n))
    dropped = store.trim_deliveries("sub_1", keep=3)
    assert dropped == 4
    kept = [d.id for d in store.deliveries("sub_1")]
    assert kept == ["dlv_0007", "dlv_0006", "dlv_0005", "dlv_0000"]
    assert store.delivery("dlv_0001") is None
