"""The Redis connection and key names. Only ``worker.storage`` speaks Redis."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

PREFIX = "syn:"


class StorageUnavailable(RuntimeError):
    """Redis did not answer (or refused the write): the caller must not report success."""


def key(*parts: str) -> str:
    return PREFIX + ":".join(parts)


class Acked:
    """Mixin: ``acked(what)`` gives the client for the writes of one acknowledged operation
    (``connect.acked``: ``WAIT`` for ``ack_replicas`` replicas on leaving)."""

    r: redis.Redis
    ack_replicas: int = 0
    ack_timeout_ms: int = 1000

    def acked(self, what: str) -> AbstractContextManager[redis.Redis]:
        from worker.storage.connect import acked

        return acked(self.r, self.ack_replicas, self.ack_timeout_ms, what)


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
