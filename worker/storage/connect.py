"""From settings to Redis: the one place that knows whether Redis is one server or a Sentinel group.

Every role builds its connections here: the store (and through it locks, heartbeats, ``/readyz``,
``syndicate status``), the web process's invalidation connection (``feedcache``) and the Celery
broker (``broker``: kombu's ``sentinel://`` transport with ``master_name``).

With ``REDIS_SENTINELS`` set, a client asks the sentinels for the primary each time it connects;
a connection to a primary that died fails (the caller answers ``503``), and a write that reaches a
demoted one (``READONLY``) drops the connection, so the next one goes to the promoted replica.
The database number and the data password come from ``REDIS_URL`` in both modes.

``acked`` makes a write acknowledged: the writes inside it go over one connection, then
``WAIT N timeout`` on that same connection confirms that N replicas hold them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

from worker.settings import Settings, parse_sentinels, redact
from worker.storage.base import StorageUnavailable, guarded

SENTINEL_TIMEOUT = 1.0  # seconds for one question to one sentinel


@dataclass(frozen=True)
class RedisTarget:
    """Where Redis is: ``url`` alone, or sentinels that know the primary (db, password from ``url``)."""

    url: str = "redis://127.0.0.1:6379/0"
    sentinels: tuple[tuple[str, int], ...] = ()
    master: str = ""
    sentinel_password: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> RedisTarget:
        return cls(
            url=settings.redis_url,
            sentinels=tuple(parse_sentinels(settings.redis_sentinels)),
            master=settings.redis_sentinel_master,
            sentinel_password=settings.redis_sentinel_password,
        )

    @property
    def uses_sentinel(self) -> bool:
        return bool(self.sentinels)

    @property
    def db(self) -> int:
        path = urlsplit(self.url).path.strip("/")
        return int(path) if path.isdigit() else 0

    @property
    def username(self) -> str | None:
        name = urlsplit(self.url).username
        return unquote(name) if name else None

    @property
    def password(self) -> str | None:
        secret = urlsplit(self.url).password
        return unquote(secret) if secret is not None else None

    def describe(self) -> str:
        """Safe to print: no password."""
        if not self.uses_sentinel:
            return redact(self.url)
        where = ",".join(f"{h}:{p}" for h, p in self.sentinels)
        return f"sentinel master '{self.master}' via {where} (db {self.db})"


def as_target(where: str | RedisTarget) -> RedisTarget:
    return where if isinstance(where, RedisTarget) else RedisTarget(url=where)


def _retry() -> Retry:
    # A couple of quick retries only: during a failover a request must answer 503 soon, not hang.
    return Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), retries=2)


def client(where: str | RedisTarget, *, timeout: float = 5.0, **options: Any) -> redis.Redis:
    """A pooled client that fails fast when Redis (or its primary) is away."""
    target = as_target(where)
    kwargs: dict[str, Any] = {
        "socket_timeout": timeout,
        "socket_connect_timeout": min(timeout, 2.0),
        "health_check_interval": 15,
        "retry_on_timeout": False,
        "retry": _retry(),
        **options,
    }
    if not target.uses_sentinel:
        return redis.Redis.from_url(target.url, **kwargs)
    manager = Sentinel(
        list(target.sentinels),
        sentinel_kwargs={
            "socket_timeout": SENTINEL_TIMEOUT,
            "socket_connect_timeout": SENTINEL_TIMEOUT,
            "password": target.sentinel_password or None,
        },
    )
    return manager.master_for(
        target.master, db=target.db, username=target.username, password=target.password, **kwargs
    )


def broker(where: str | RedisTarget) -> tuple[str, dict[str, Any]]:
    """The Celery broker URL and the transport options that go with it (beyond the common ones)."""
    target = as_target(where)
    if not target.uses_sentinel:
        return target.url, {}
    auth = ""
    if target.password is not None or target.username:
        auth = f"{quote(target.username or '', safe='')}:{quote(target.password or '', safe='')}@"
    hosts = [f"[{h}]" if ":" in h else h for h, _ in target.sentinels]
    url = ";".join(
        f"sentinel://{auth}{host}:{port}/{target.db}"
        for host, (_, port) in zip(hosts, target.sentinels, strict=True)
    )
    options: dict[str, Any] = {
        "master_name": target.master,
        "sentinel_kwargs": {"socket_timeout": SENTINEL_TIMEOUT, "socket_connect_timeout": SENTINEL_TIMEOUT},
    }
    if target.sentinel_password:
        options["sentinel_kwargs"]["password"] = target.sentinel_password
    return url, options


class _Pinned:
    """A pool of one connection: the writes and the ``WAIT`` after them go over the same one."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool
        self.connection = pool.get_connection()

    def get_connection(self, *_: Any, **__: Any) -> Any:
        return self.connection

    def release(self, _connection: Any) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


@contextmanager
def acked(r: redis.Redis, replicas: int, timeout_ms: int, what: str) -> Iterator[redis.Redis]:
    """A client for the writes of one acknowledged operation; on leaving, ``WAIT replicas
    timeout_ms`` must confirm them, else ``StorageUnavailable`` (the caller must not report
    success; the write may still be on the primary, so a retry must be idempotent)."""
    if replicas <= 0:
        yield r
        return
    with guarded(what):
        pinned = _Pinned(r.connection_pool)
    try:
        one = redis.Redis(connection_pool=pinned)  # type: ignore[arg-type]
        yield one
        with guarded(f"{what}: WAIT for {replicas} replica(s)"):
            confirmed = int(one.wait(replicas, timeout_ms))
        if confirmed < replicas:
            raise StorageUnavailable(
                f"redis: {what}: {confirmed} of {replicas} replica(s) confirmed the write within "
                f"{timeout_ms} ms (SYNDICATE_ACK_REPLICAS); not acknowledged, retry later"
            )
    finally:
        r.connection_pool.release(pinned.connection)


def replication(r: redis.Redis) -> dict[str, Any]:
    """The primary's own view: its role and how many replicas are connected (``INFO replication``)."""
    with guarded("read replication info"):
        info = r.info("replication")
    return {"role": info.get("role"), "connected_replicas": int(info.get("connected_slaves", 0))}


class Acked:
    """Mixin: ``acked(what)`` gives the client for the writes of one acknowledged operation
    (``connect.acked``: ``WAIT`` for ``ack_replicas`` replicas on leaving)."""

    r: redis.Redis
    ack_replicas: int = 0
    ack_timeout_ms: int = 1000

    def acked(self, what: str) -> AbstractContextManager[redis.Redis]:
        return acked(self.r, self.ack_replicas, self.ack_timeout_ms, what)
