"""Work bookkeeping in Redis: due times, leases, heartbeats, dead letters, counters.

Every piece of queued work (an article to ingest, a delivery to attempt, a feed to render) is
recorded here first, with the time by which it must have been (re)sent. Celery messages are only
nudges: if a worker dies holding one, the sweeper sends the work again once it is due. Long retry
delays live here as due times, never as Celery ETAs (which Redis would redeliver after the
visibility timeout).
"""

from __future__ import annotations

import json
from typing import Any

import redis

from worker.storage.base import guarded, key, now, text

# Pick members due at or before ARGV[1] (at most ARGV[2]) and push their due time to ARGV[3]:
# one atomic step, so two sweepers never send the same member twice in a row.
_TAKE_DUE = """
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, m in ipairs(members) do redis.call('ZADD', KEYS[1], 'XX', ARGV[3], m) end
return members
"""

DEAD_LETTER_LIMIT = 10_000


class WorkStore:
    r: redis.Redis

    def _init_scripts(self) -> None:
        self._take_due = self.r.register_script(_TAKE_DUE)

    # -- due times ---------------------------------------------------------------------------
    def due_add(self, kind: str, member: str, at: float) -> None:
        with guarded(f"schedule {kind} {member}"):
            self.r.zadd(key("due", kind), {member: at})

    def due_take(self, kind: str, *, limit: int = 500, recheck_in: float = 15.0) -> list[str]:
        """Members whose due time has come; their due time moves ``recheck_in`` seconds ahead."""
        t = now()
        with guarded(f"take due {kind}"):
            members = self._take_due(keys=[key("due", kind)], args=[t, limit, t + recheck_in])
        return [m.decode() for m in members]

    def due_count(self, kind: str, *, ready_only: bool = False) -> int:
        with guarded(f"count due {kind}"):
            if ready_only:
                return int(self.r.zcount(key("due", kind), "-inf", now()))
            return int(self.r.zcard(key("due", kind)))

    def due_score(self, kind: str, member: str) -> float | None:
        with guarded(f"read due {kind}"):
            score = self.r.zscore(key("due", kind), member)
        return None if score is None else float(score)

    # -- leases, locks, flags -----------------------------------------------------------------
    def acquire(self, name: str, owner: str, ttl: float) -> bool:
        """A lock held by ``owner`` for ``ttl`` seconds (renewed when ``owner`` holds it already)."""
        k = key("lock", name)
        with guarded(f"lock {name}"):
            if self.r.set(k, owner, nx=True, px=int(ttl * 1000)):
                return True
            if text(self.r.get(k)) == owner:
                self.r.pexpire(k, int(ttl * 1000))
                return True
        return False

    def release(self, name: str, owner: str) -> None:
        k = key("lock", name)
        with guarded(f"unlock {name}"):
            if text(self.r.get(k)) == owner:
                self.r.delete(k)

    def claim_flag(self, name: str, ttl: float) -> bool:
        """True for the first caller within ``ttl`` seconds: used to coalesce nudges."""
        with guarded(f"flag {name}"):
            return bool(self.r.set(key("flag", name), "1", nx=True, px=max(1, int(ttl * 1000))))

    def claim_marker(self, name: str, value: str) -> bool:
        """True once per new ``value`` of marker ``name`` (e.g. once per day), across all hosts."""
        with guarded(f"marker {name}"):
            return text(self.r.set(key("marker", name), value, get=True)) != value

    # -- heartbeats ---------------------------------------------------------------------------
    def heartbeat(self, node: str, info: dict[str, Any], ttl: float = 20.0) -> None:
        payload = json.dumps({**info, "at": now()})
        with guarded("heartbeat"):
            self.r.set(key("hb", node), payload, ex=max(1, int(ttl)))

    def workers(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        with guarded("list workers"):
            for k in self.r.scan_iter(match=key("hb", "*"), count=100):
                raw = self.r.get(k)
                if raw:
                    out[text(k).removeprefix(key("hb", ""))] = json.loads(raw)
        return out

    def ping(self) -> bool:
        with guarded("ping"):
            return bool(self.r.ping())

    # -- dead letters -------------------------------------------------------------------------
    def add_dead_letter(self, reason: str, origin: str, payload: dict[str, Any]) -> None:
        entry = json.dumps({"at": now(), "reason": reason, "origin": origin, "input": payload})
        with guarded("dead letter"), self.r.pipeline() as p:
            p.lpush(key("dead"), entry)
            p.ltrim(key("dead"), 0, DEAD_LETTER_LIMIT - 1)
            p.hincrby(key("stats"), "articles_rejected", 1)
            p.execute()

    def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        with guarded("read dead letters"):
            return [json.loads(x) for x in self.r.lrange(key("dead"), 0, limit - 1)]

    def dead_letter_count(self) -> int:
        with guarded("count dead letters"):
            return int(self.r.llen(key("dead")))

    # -- counters (shared by every process, read by /metrics) --------------------------------
    def incr(self, name: str, amount: float = 1) -> None:
        with guarded("count"):
            self.r.hincrbyfloat(key("stats"), name, amount)

    def stats(self) -> dict[str, float]:
        with guarded("read counters"):
            raw = self.r.hgetall(key("stats"))
        return {k.decode(): float(v) for k, v in raw.items()}

    def queue_lengths(self, queues: list[str]) -> dict[str, int]:
        """Messages waiting in each Celery queue (kombu keeps a Redis list per queue)."""
        with guarded("queue lengths"), self.r.pipeline() as p:
            for q in queues:
                p.llen(q)
            return dict(zip(queues, (int(n) for n in p.execute()), strict=True))
