"""The storage layer: the only code in the project that speaks Redis."""

from __future__ import annotations

from worker.storage.articles import ArticleStore
from worker.storage.attempts import AttemptStore
from worker.storage.base import StorageUnavailable, Unreleased, guarded
from worker.storage.connect import RedisTarget, as_target, client, replication
from worker.storage.feeds import FeedStore, StoredFeed
from worker.storage.hooks import HookStore
from worker.storage.lifecycle import LifecycleStore
from worker.storage.renders import RenderStore
from worker.storage.retention import RetentionStore
from worker.storage.scripts import Scripts
from worker.storage.sources import SourceStore
from worker.storage.work import WorkStore

__all__ = ["RedisTarget", "StorageUnavailable", "Store", "StoredFeed"]


class Store(
    ArticleStore,
    AttemptStore,
    FeedStore,
    HookStore,
    LifecycleStore,
    RenderStore,
    RetentionStore,
    SourceStore,
    WorkStore,
):
    """One object, one connection pool, every storage operation."""

    def __init__(
        self,
        where: str | RedisTarget,
        *,
        redeliver_after: float = 15.0,
        timeout: float = 5.0,
        ack_replicas: int = 0,
        ack_timeout_ms: int = 1000,
    ) -> None:
        self.target = as_target(where)
        # a WAIT must end (confirmed or not) before the socket gives up on its answer
        self.r = client(self.target, timeout=max(timeout, ack_timeout_ms / 1000 + 1.0))
        self.redeliver_after = redeliver_after
        self.ack_replicas, self.ack_timeout_ms = ack_replicas, ack_timeout_ms
        self.scripts = Scripts(self.r)
        self.unreleased = Unreleased()

    def replication(self) -> dict[str, object]:
        """Where this store writes and how many replicas follow it (``/readyz``, ``syndicate status``)."""
        out: dict[str, object] = {"redis": self.target.describe(), **replication(self.r)}
        if self.target.uses_sentinel:
            with guarded("ask the sentinels for the primary"):
                host, port = self.r.connection_pool.get_master_address()  # type: ignore[attr-defined]
            out["primary"] = f"{host}:{port}"
        return out

    def close(self) -> None:
        self.r.close()
