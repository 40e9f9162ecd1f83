"""Upstream source state: validators of the last response, schedule, failures."""

from __future__ import annotations

import redis

from worker.storage import keys
from worker.storage.base import guarded


class SourceStore:
    r: redis.Redis

    def source_state(self, source_id: str) -> dict[str, str]:
        with guarded(f"read source {source_id}"):
            return {k.decode(): v.decode() for k, v in self.r.hgetall(keys.source(source_id)).items()}

    def save_source_state(self, source_id: str, state: dict[str, str | float | int]) -> None:
        with guarded(f"save source {source_id}"):
            self.r.hset(keys.source(source_id), mapping={k: str(v) for k, v in state.items()})

    def item_seen(self, source_id: str, item_key: str, digest: str) -> bool:
        """True if this upstream item was already taken in with exactly this content."""
        with guarded(f"source items {source_id}"):
            return self.r.hget(keys.source_items(source_id), item_key) == digest.encode()

    def remember_item(self, source_id: str, item_key: str, digest: str) -> None:
        with guarded(f"source items {source_id}"):
            self.r.hset(keys.source_items(source_id), item_key, digest)

    def keep_items(self, source_id: str, item_keys: list[str]) -> None:
        """Forget items no longer in the feed (the map stays as small as the feed).

        Safe: an item that comes back is normalized again, and ingest finds it unchanged.
        """
        k = keys.source_items(source_id)
        with guarded(f"source items {source_id}"):
            stale = set(self.r.hkeys(k)) - {i.encode() for i in item_keys}
            if stale:
                self.r.hdel(k, *stale)

    def claim_poll(self, source_id: str, ttl: float) -> bool:
        """True when no poll of ``source_id`` is queued yet (then one is, for at most ``ttl`` s)."""
        with guarded(f"queue poll {source_id}"):
            return bool(self.r.set(keys.poll_queued(source_id), "1", nx=True, px=int(ttl * 1000)))

    def poll_done(self, source_id: str) -> None:
        """The queued poll ran: beat may queue the next one as soon as it is due."""
        with guarded(f"queue poll {source_id}"):
            self.r.delete(keys.poll_queued(source_id))
