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


# -- batches of attempts ------------------------------------------------------------------------


def test_admit_many_applies_cap_and_rate_in_order(store: Store) -> None:
    requests = [("sub_1", f"d{i}", None) for i in range(4)] + [("sub_2", f"e{i}", 2) for i in range(3)]
    waits = store.admit_many(requests, max_in_flight=3, lease=30)
    assert waits[:4] == [0.0, 0.0, 0.0, -1.0]  # the in-flight cap of sub_1
    assert waits[4:6] == [0.0, 0.0] and 0 < waits[6] <= 0.5  # the token bucket of sub_2
    assert store.in_flight("sub_1") == 3 and store.in_flight("sub_2") == 2
    assert store.admit("sub_1", "d0", max_in_flight=3, rate_limit=None, lease=30) == 0.0  # holder again


def test_leases_of_a_batch_are_exclusive_and_carry_the_records(store: Store) -> None:
    store.save_delivery(delivery(1, "pending"))
    store.save_delivery(delivery(2, "pending"))
    assert store.acquire("dlv:dlv_0002", "elsewhere:1:x", ttl=30)  # a live holder on another host
    held = store.lease_deliveries(["dlv_0001", "dlv_0002", "dlv_gone"], "me:1:a", ttl=30)
    assert set(held) == {"dlv_0001", "dlv_gone"}
    assert held["dlv_0001"] == delivery(1, "pending") and held["dlv_gone"] is None
    assert store.lease_deliveries(["dlv_0001"], "me:1:b", ttl=30) == {}  # another batch
    assert set(store.lease_deliveries(["dlv_0001"], "me:1:a", ttl=30)) == {"dlv_0001"}  # renewed
    store.release_leases(["dlv_0001", "dlv_0002"], "me:1:a")
    assert set(store.lease_deliveries(["dlv_0001", "dlv_0002"], "me:1:b", ttl=30)) == {"dlv_0001"}


def _subscribe(store: Store, sub_id: str = "sub_1") -> None:
    store.save_subscription(
        Subscription(id=sub_id, url="https://example.org/h", audience="global", created_at=T0, secrets=["a"])
    )


def test_write_deliveries_writes_outcomes_and_frees_leases(store: Store) -> None:
    from worker.storage.attempts import DeliveryWrites

    _subscribe(store)
    for n in range(1, 6):
        store.save_delivery(delivery(n, "pending"), due_at=time.time() + 60)
    owner = "me:1:a"
    assert set(store.lease_deliveries(["dlv_0004", "dlv_0005"], owner, ttl=30)) == {"dlv_0004", "dlv_0005"}
    assert store.admit_many(
        [("sub_1", "dlv_0004", None), ("sub_1", "dlv_0005", None)], max_in_flight=5, lease=30
    )
    w = DeliveryWrites(owner=owner, leases=["dlv_0004", "dlv_0005"])
    w.saves.append((delivery(4, "succeeded"), None))
    w.saves.append((delivery(5, "failed"), 12345.0))
    w.due["dlv_0003"] = 999.0
    w.count("deliveries_succeeded")
    w.count("deliveries_succeeded")
    store.write_deliveries(w, keep=3)
    assert store.in_flight("sub_1") == 2  # slots are released per round (release_slots), not here
    store.release_slots([("sub_1", "dlv_0004"), ("sub_1", "dlv_0005")])
    assert store.delivery("dlv_0004").status == "succeeded"  # type: ignore[union-attr]
    assert store.due_score("deliver", "dlv_0004") is None
    assert store.due_score("deliver", "dlv_0005") == 12345.0
    assert store.due_score("deliver", "dlv_0003") == 999.0
    assert store.stats()["deliveries_succeeded"] == 2
    assert store.in_flight("sub_1") == 0
    assert set(store.lease_deliveries(["dlv_0004", "dlv_0005"], "me:1:b", ttl=30)) == {"dlv_0004", "dlv_0005"}
    # over the retention of 3, but everything older than the newest 3 is still due: nothing dropped
    assert len(store.deliveries("sub_1")) == 5


def test_update_subscriptions_changes_each_current_record_once(store: Store) -> None:
    for i in (1, 2):
        store.save_subscription(
            Subscription(
                id=f"sub_{i}", url="https://example.org/h", audience="global", created_at=T0, secrets=["a"]
            )
        )
    store.update_subscriptions(
        ["sub_1", "sub_2", "sub_gone"], lambda s: s.model_copy(update={"last_success_at": T0})
    )
    assert all(store.subscription(i).last_success_at == T0 for i in ("sub_1", "sub_2"))  # type: ignore[union-attr]
    assert store.subscription("sub_gone") is None


def test_a_deleted_subscription_takes_its_delivery_log_along(store: Store) -> None:
    from worker.storage.attempts import DeliveryWrites

    _subscribe(store, "sub_1")
    _subscribe(store, "sub_2")
    for n in range(1, 5):
        store.save_delivery(delivery(n))
    store.save_delivery(delivery(5, "pending"), due_at=time.time() + 60)  # an attempt still to come
    store.save_delivery(delivery(6, sub="sub_2"))
    assert store.delete_subscription("sub_1")
    assert [d.id for d in store.deliveries("sub_1")] == ["dlv_0005"]  # only what is still due
    assert all(store.delivery(f"dlv_{n:04d}") is None for n in range(1, 5))
    assert [d.id for d in store.deliveries()] == ["dlv_0006", "dlv_0005"]  # the global log too
    # The pending one ends at its attempt ("subscription deleted") and goes then.
    w = DeliveryWrites(owner="me:1:a", leases=[])
    w.saves.append((delivery(5, "dead"), None))
    store.write_deliveries(w, keep=1000)
    assert store.deliveries("sub_1") == [] and store.delivery("dlv_0005") is None
    assert [d.id for d in store.deliveries("sub_2")] == ["dlv_0006"]  # others untouched
    assert store.r.exists("syn:dlv-log:sub_1") == 0


def test_a_revisit_never_overwrites_newer_input(store: Store) -> None:
    """commit_revisit writes only over the version it was planned from, and never while a new
    input is staged (the ingest of that input applies the configuration, and must not lose it)."""
    from worker.ingest import plan_ingest
    from worker.models import Article, Audience, IngestCommit, StoredArticle

    one = [Audience(id="global", language="en", default=True)]
    two = [*one, Audience(id="kz", language="ru", regions=["KZ"])]
    a = Article(id="rferl-9", source="rferl", title="T", language="en", body_text="B", body_html="<p>B</p>",
                content_hash="h", published_at=T0)  # fmt: skip

    def planned(
        audiences: list[Audience], previous: StoredArticle | None = None, revisit: bool = False
    ) -> IngestCommit | None:
        return plan_ingest(a, previous, audiences=audiences, notices=[], subscriptions={}, at=T0,
                           payload_cap=1 << 20, revisit=revisit)  # fmt: skip

    store.stage(a)
    first = planned(one)
    assert first is not None and store.commit_many([(store.staged(a.id) or "", first)])
    stored = store.article(a.id)
    assert stored is not None and stored.audiences == ["global"]
    revisit = planned(two, stored, revisit=True)
    assert revisit is not None and revisit.version == 2
    store.stage(a.model_copy(update={"title": "Newer"}))
    assert not store.commit_revisit(revisit, stored.version)  # new input waits: left to its ingest
    assert store.staged(a.id) is not None and store.article(a.id).version == 1  # type: ignore[union-attr]
    store.r.delete("syn:staged:rferl-9")
    assert not store.commit_revisit(revisit, stored.version + 1)  # planned from another version
    assert store.commit_revisit(revisit, stored.version)
    after = store.article(a.id)
    assert after is not None and after.version == 2 and sorted(after.audiences) == ["global", "kz"]
    assert store.index_count("kz:all") == 1
