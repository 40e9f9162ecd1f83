"""Work bookkeeping in Redis: due times, leases, heartbeats, dead letters, counters.

Every piece of queued work (an article to ingest, a delivery to attempt, a feed to render) is
recorded here first, with the time by which it must have been (re)sent. Celery messages are only
nudges: if a worker dies holding one, the sweeper sends the work again once it is due. Long retry
delays live here as due times, never as Celery ETAs (which Redis would redeliver after the
visibility timeout).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from typing import Any

import redis

from worker.storage import keys
from worker.storage.base import StorageUnavailable, Unreleased, guarded, now, text
from worker.storage.scripts import Scripts

DEAD_LETTER_LIMIT = 10_000
HEARTBEAT_TTL = 20.0  # seconds a worker's heartbeat outlives its last beat (one beat per second)


def holder_is_dead(holder: str, heartbeat_gone: Callable[[str], bool] = lambda node: False) -> bool:
    """True when ``holder`` is known to be dead.

    ``holder`` is ``host:pid:token``, maybe followed by ``|hb=NODE`` (``Runtime.lock_owner``): the
    heartbeat of the worker that ``holder`` belongs to. It is dead when it was a process of this
    host that no longer exists, or when the heartbeat that vouches for it is gone
    (``heartbeat_gone(NODE)``: a worker that stopped heartbeating for its TTL, on any host). Any
    other holder (a pid that lives or was reused, a CLI or web process on another host) counts as
    alive: its lock then lasts until its time-to-live runs out."""
    holder, _, vouch = holder.partition("|hb=")
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host == socket.gethostname() and pid.isdigit() and int(pid) > 1:
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except OSError:  # EPERM: it exists, under another user
            pass
    return bool(vouch) and heartbeat_gone(vouch)


class WorkStore:
    r: redis.Redis
    scripts: Scripts
    unreleased: Unreleased

    # -- due times ---------------------------------------------------------------------------
    def due_take(self, kind: str, *, limit: int = 500, recheck_in: float = 15.0) -> list[str]:
        """Members whose due time has come; their due time moves ``recheck_in`` seconds ahead."""
        t = now()
        with guarded(f"take due {kind}"):
            members = self.scripts.take_due(keys=[keys.due(kind)], args=[t, limit, t + recheck_in])
        return [m.decode() for m in members]

    def due_count(self, kind: str, *, ready_only: bool = False) -> int:
        with guarded(f"count due {kind}"):
            if ready_only:
                return int(self.r.zcount(keys.due(kind), "-inf", now()))
            return int(self.r.zcard(keys.due(kind)))

    def due_score(self, kind: str, member: str) -> float | None:
        with guarded(f"read due {kind}"):
            score = self.r.zscore(keys.due(kind), member)
        return None if score is None else float(score)

    # -- leases, locks, flags -----------------------------------------------------------------
    def acquire(self, name: str, owner: str, ttl: float) -> bool:
        """A lock held by ``owner`` for ``ttl`` seconds (renewed when ``owner`` holds it already).

        A lock whose holder was killed (SIGKILL, OOM) is taken over at once when the holder was a
        process of this host, and once its worker's heartbeat has expired when it was a worker
        process elsewhere, instead of blocking the work (every feed render, say) until the lock's
        time-to-live runs out; any other holder is waited out.
        """
        k, ms = keys.lock(name), max(1, int(ttl * 1000))
        with guarded(f"lock {name}"):
            self._release_pending()
            if self.r.set(k, owner, nx=True, px=ms):
                return True
            holder = text(self.r.get(k))
            if holder == owner:
                self.r.pexpire(k, ms)
                return True
            if holder is not None and holder_is_dead(holder, self._heartbeat_gone):
                return bool(self.scripts.take_over(keys=[k], args=[holder, owner, ms]))
        return False

    def release(self, name: str, owner: str) -> None:
        """Give the lock up if ``owner`` holds it.

        When Redis is away the release is remembered and done by this process's next lock call,
        so a lock whose holder outlived a Redis restart does not block its work until its
        time-to-live runs out (the lock itself survives the restart, in the AOF).
        """
        k = keys.lock(name)
        try:
            with guarded(f"unlock {name}"):
                self.scripts.release(keys=[k], args=[owner])
        except StorageUnavailable:
            self.unreleased.add([(k, owner)])
            raise

    def _release_pending(self) -> None:
        for item in self.unreleased.snapshot():  # threads of one process share the list
            self.scripts.release(keys=[item[0]], args=[item[1]])
            self.unreleased.done(item)

    def mark_burst(self, seconds: float) -> None:
        """A bulk import is under way, for the next ``seconds`` (``worker.cadence``)."""
        with guarded("mark burst"):
            self.r.set(keys.flag("burst"), "1", px=max(1, int(seconds * 1000)))

    def bursting(self, backlog: int) -> bool:
        """A bulk import marked itself, or at least ``backlog`` staged articles wait (one round trip)."""
        with guarded("read burst"), self.r.pipeline(transaction=False) as p:
            p.exists(keys.flag("burst"))
            p.zcard(keys.due("ingest"))
            marked, waiting = p.execute()
        return bool(marked) or int(waiting) >= backlog

    def claim_flag(self, name: str, ttl: float) -> bool:
        """True for the first caller within ``ttl`` seconds: used to coalesce nudges."""
        with guarded(f"flag {name}"):
            return bool(self.r.set(keys.flag(name), "1", nx=True, px=max(1, int(ttl * 1000))))

    def claim_marker(self, name: str, value: str) -> bool:
        """True once per new ``value`` of marker ``name`` (e.g. once per day), across all hosts."""
        with guarded(f"marker {name}"):
            return text(self.r.set(keys.marker(name), value, get=True)) != value

    # -- heartbeats ---------------------------------------------------------------------------
    def _heartbeat_gone(self, node: str) -> bool:
        return not self.r.exists(keys.heartbeat(node))

    def heartbeat(self, node: str, info: dict[str, Any], ttl: float = HEARTBEAT_TTL) -> None:
        payload = json.dumps({**info, "at": now()})
        with guarded("heartbeat"):
            self.r.set(keys.heartbeat(node), payload, ex=max(1, int(ttl)))

    def workers(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        with guarded("list workers"):
            for k in self.r.scan_iter(match=keys.heartbeat("*"), count=100):
                raw = self.r.get(k)
                if raw:
                    out[text(k).removeprefix(keys.heartbeat(""))] = json.loads(raw)
        return out

    def ping(self) -> bool:
        with guarded("ping"):
            return bool(self.r.ping())

    # -- dead letters -------------------------------------------------------------------------
    def add_dead_letter(self, reason: str, origin: str, payload: dict[str, Any]) -> None:
        entry = json.dumps({"at": now(), "reason": reason, "origin": origin, "input": payload})
        with guarded("dead letter"), self.r.pipeline() as p:
            p.lpush(keys.DEAD_LETTERS, entry)
            p.ltrim(keys.DEAD_LETTERS, 0, DEAD_LETTER_LIMIT - 1)
            p.hincrby(keys.STATS, "articles_rejected", 1)
            p.execute()

    def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        with guarded("read dead letters"):
            return [json.loads(x) for x in self.r.lrange(keys.DEAD_LETTERS, 0, limit - 1)]

    def dead_letter_count(self) -> int:
        with guarded("count dead letters"):
            return int(self.r.llen(keys.DEAD_LETTERS))

    # -- counters (shared by every process, read by /metrics) --------------------------------
    def incr(self, name: str, amount: float = 1) -> None:
        with guarded("count"):
            self.r.hincrbyfloat(keys.STATS, name, amount)

    def stats(self) -> dict[str, float]:
        with guarded("read counters"):
            raw = self.r.hgetall(keys.STATS)
        return {k.decode(): float(v) for k, v in raw.items()}

    def queue_lengths(self, queues: list[str]) -> dict[str, int]:
        """Messages waiting in each Celery queue (kombu keeps a Redis list per queue)."""
        with guarded("queue lengths"), self.r.pipeline() as p:
            for q in queues:
                p.llen(q)
            return dict(zip(queues, (int(n) for n in p.execute()), strict=True))
