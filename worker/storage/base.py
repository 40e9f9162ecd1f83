"""What every store shares: the failure that means "Redis did not answer", acknowledged writes,
the clock. Only ``worker.storage`` speaks Redis; its keys are named in ``keys.py``."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from worker.models import Delivery
from worker.storage import keys


class StorageUnavailable(RuntimeError):
    """Redis did not answer (or refused the write): the caller must not report success."""


@contextmanager
def guarded(what: str) -> Iterator[None]:
    """Turn any Redis failure into ``StorageUnavailable`` naming the operation."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError) as exc:
        raise StorageUnavailable(f"redis: {what} failed: {exc}") from exc
    except RedisError as exc:
        raise StorageUnavailable(f"redis: {what} failed: {exc}") from exc


def now() -> float:
    return time.time()


def text(value: bytes | str | None) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else value


def write_deliveries(p: redis.client.Pipeline, deliveries: Sequence[Delivery]) -> None:
    """The one way delivery records are written, inside the caller's pipeline ``p``: each record,
    and its place (by creation time) in the delivery log of all and of its subscription."""
    if not deliveries:
        return
    p.mset({keys.delivery(d.id): d.model_dump_json() for d in deliveries})
    p.zadd(keys.DELIVERY_LOG, {d.id: d.created_at.timestamp() for d in deliveries})
    by_subscription: dict[str, dict[str, float]] = {}
    for d in deliveries:
        by_subscription.setdefault(d.subscription_id, {})[d.id] = d.created_at.timestamp()
    for subscription_id, entries in by_subscription.items():
        p.zadd(keys.delivery_log(subscription_id), entries)


class Unreleased:
    """Locks and leases a process could not give up while Redis was away (key, owner): its next
    lock call gives them up. One list per store, shared by the threads of the process."""

    LIMIT = 1000

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, items: Sequence[tuple[str, str]]) -> None:
        self.items.extend(items)
        del self.items[: -self.LIMIT]

    def snapshot(self) -> list[tuple[str, str]]:
        return list(self.items)

    def done(self, item: tuple[str, str]) -> None:
        if item in self.items:
            self.items.remove(item)
