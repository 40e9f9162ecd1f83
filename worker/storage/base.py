"""The Redis connection and key names. Only ``worker.storage`` speaks Redis."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

PREFIX = "syn:"


class StorageUnavailable(RuntimeError):
    """Redis did not answer (or refused the write): the caller must not report success."""


def key(*parts: str) -> str:
    return PREFIX + ":".join(parts)


def connect(url: str, *, timeout: float = 5.0) -> redis.Redis:
    """A pooled client that fails fast when Redis is away, instead of hanging a request."""
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=min(timeout, 2.0),
        health_check_interval=15,
        retry_on_timeout=False,
    )


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
