"""What the renderer remembers about each feed: its cost, a render under way, failures and backoff.

* ``syn:render:cost`` (hash feed -> seconds of its last good render): cheap feeds go first.
* ``syn:render:running`` (hash feed -> holder and start time): set before a feed renders, removed
  after. The renderer runs under the ``publish`` lock, so a mark it finds when it starts was left
  by a pass that was killed mid-feed (Celery's hard time limit, OOM, SIGKILL): that feed is the
  one that overran, and it backs off instead of killing the next pass too.
* ``syn:render:retry`` (sorted set feed -> time of the next try) and ``syn:render:failures``
  (hash feed -> failures in a row, and ``feed|reason`` -> the last reason): a feed that failed or
  overran is skipped until its time comes; its dirty mark stays, so nothing is lost.
"""

from __future__ import annotations

import redis

from worker.storage import keys
from worker.storage.base import guarded, now, text

BACKOFF_FIRST = 5.0  # seconds before the first retry of a failed feed; doubled each failure
BACKOFF_MAX = 600.0


def backoff_delay(failures: int) -> float:
    """Seconds before the next try after ``failures`` failures in a row: 5, 10, 20, ... 600."""
    return min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** max(0, min(failures - 1, 20)))


class RenderStore:
    r: redis.Redis

    def render_costs(self, feeds: list[str]) -> dict[str, float]:
        if not feeds:
            return {}
        with guarded("read render costs"):
            values = self.r.hmget(keys.RENDER_COST, feeds)
        return {f: float(v) for f, v in zip(feeds, values, strict=True) if v is not None}

    def render_retry_times(self) -> dict[str, float]:
        """Feeds backing off, with the time each may be tried again."""
        with guarded("read render backoff"):
            pairs = self.r.zrange(keys.RENDER_RETRY, 0, -1, withscores=True)
        return {k.decode(): float(score) for k, score in pairs}

    def render_started(self, feed: str, owner: str) -> None:
        with guarded(f"mark render of {feed}"):
            self.r.hset(keys.RENDER_RUNNING, feed, f"{owner} {now():.3f}")

    def render_interrupted(self) -> dict[str, str]:
        """Renders marked as under way: read while holding the ``publish`` lock, they are the
        feeds a killed pass was rendering."""
        with guarded("read renders under way"):
            raw = self.r.hgetall(keys.RENDER_RUNNING)
        return {k.decode(): text(v) or "" for k, v in raw.items()}

    def render_succeeded(self, feed: str, seconds: float) -> None:
        with guarded(f"record render of {feed}"), self.r.pipeline(transaction=True) as p:
            p.hdel(keys.RENDER_RUNNING, feed)
            p.hset(keys.RENDER_COST, feed, f"{seconds:.6f}")
            p.zrem(keys.RENDER_RETRY, feed)
            p.hdel(keys.RENDER_FAILURES, feed, f"{feed}|reason")
            p.execute()

    def render_failed(self, feed: str, reason: str, seconds: float | None = None) -> tuple[int, float]:
        """Count a failure and schedule the next try; returns (failures in a row, delay)."""
        with guarded(f"record failed render of {feed}"):
            failures = int(self.r.hincrby(keys.RENDER_FAILURES, feed, 1))
            delay = backoff_delay(failures)
            with self.r.pipeline(transaction=True) as p:
                p.hdel(keys.RENDER_RUNNING, feed)
                p.zadd(keys.RENDER_RETRY, {feed: now() + delay})
                p.hset(keys.RENDER_FAILURES, f"{feed}|reason", reason[:500])
                if seconds is not None:
                    p.hset(keys.RENDER_COST, feed, f"{seconds:.6f}")
                p.execute()
        return failures, delay

    def render_unmark(self, feed: str) -> None:
        with guarded(f"unmark render of {feed}"):
            self.r.hdel(keys.RENDER_RUNNING, feed)

    def feeds_backing_off(self) -> int:
        with guarded("count feeds backing off"):
            return int(self.r.zcard(keys.RENDER_RETRY))

    def dirty_due(self) -> bool:
        """True when some dirty feed may be rendered now (dirty and not backing off)."""
        with guarded("read dirty feeds"):
            dirty = {k.decode() for k in self.r.hkeys(keys.DIRTY)}
            if not dirty:
                return False
            waiting = {k.decode() for k in self.r.zrangebyscore(keys.RENDER_RETRY, f"({now()}", "+inf")}
        return bool(dirty - waiting)
