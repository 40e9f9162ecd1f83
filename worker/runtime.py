"""Per-process context: settings, configuration and storage, built once and passed to stages."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

from worker.config import Config, load_config
from worker.config_reload import LiveConfig
from worker.models import Subscription
from worker.settings import Settings
from worker.storage import RedisTarget, Store
from worker.storage.feedcache import FeedCache

if TYPE_CHECKING:
    import requests


class Nudger(Protocol):
    """Sends the Celery messages that wake workers; implemented by ``worker.nudger``."""

    def ingest(self, article_ids: list[str]) -> None: ...
    def publish(self) -> None: ...
    def deliver(self, delivery_ids: list[str]) -> None: ...
    def poll(self, source_ids: list[str]) -> None: ...
    def revisit(self, article_ids: list[str]) -> None: ...


_heartbeat_node: str | None = None  # set in a worker's main process, inherited by its pool


def vouch_for_pool() -> str:
    """In a worker's main process, before its pool starts: from now on the locks and leases this
    process and its forked pool processes take name this process's heartbeat, so that a worker
    on another host can take them over once that heartbeat has expired."""
    global _heartbeat_node
    _heartbeat_node = f"{socket.gethostname()}:{os.getpid()}"
    return _heartbeat_node


@dataclass
class Runtime:
    settings: Settings
    live_config: LiveConfig
    store: Store
    node: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    _subs_cache: tuple[int, dict[str, list[Subscription]]] | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        """The configuration in force: read again when its files change (``config_reload``)."""
        return self.live_config.current()

    @cached_property
    def session(self) -> requests.Session:
        from worker.net.guard import make_session

        return make_session()

    def lock_owner(self) -> str:
        """A new owner name for one lock or lease: ``host:pid:token``, and ``|hb=NODE`` in a worker
        (see ``vouch_for_pool`` and ``storage.work.holder_is_dead``)."""
        owner = f"{self.node}:{uuid.uuid4().hex[:12]}"
        return owner if _heartbeat_node is None else f"{owner}|hb={_heartbeat_node}"

    @cached_property
    def feed_cache(self) -> FeedCache:
        """Feed bytes kept in this process for serving; Redis invalidates them (HTTP server only)."""
        cache = FeedCache(self.store.target, self.store, max_bytes=self.settings.feed_cache_mb << 20)
        return cache.start()

    def subscriptions_by_audience(self) -> dict[str, list[Subscription]]:
        """Subscriptions grouped by audience, read again only when any of them changed."""
        version = self.store.subscriptions_version()
        cached = self._subs_cache
        if cached is None or cached[0] != version:
            grouped: dict[str, list[Subscription]] = {}
            for sub in self.store.subscriptions():
                grouped.setdefault(sub.audience, []).append(sub)
            cached = self._subs_cache = (version, grouped)
        return cached[1]

    @classmethod
    def from_env(cls) -> Runtime:
        settings = Settings.from_env()
        return cls.build(settings)

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        config = LiveConfig(settings.config_dir, load_config(settings.config_dir))
        store = Store(
            RedisTarget.from_settings(settings),
            redeliver_after=settings.redeliver_after,
            ack_replicas=settings.ack_replicas,
            ack_timeout_ms=settings.ack_timeout_ms,
        )
        return cls(settings=settings, live_config=config, store=store)


_current: Runtime | None = None


def runtime() -> Runtime:
    """The process-wide runtime, built from the environment on first use."""
    global _current
    if _current is None or _current.node.split(":")[-1] != str(os.getpid()):
        _current = Runtime.from_env()
    return _current
