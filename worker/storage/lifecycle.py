"""The life cycle in Redis: operators' kills, the due times of embargoes and expiries.

* ``syn:kill:{id}``: the reason of an operator's kill; it outlives re-ingests of the same
  source item until it is undone (``unkill``, or a ``restore`` staging);
* ``syn:due:life``: article id -> when its state changes by the clock alone (an embargo lifts,
  an expiry comes) or must be looked at again now (a kill, an undo). The sweeper takes what is
  due, as it does ingests and deliveries, and a revisit applies it (``pipeline.revisit``);
* ``syn:embargoed``: article id -> when its embargo lifts (``inf``: withheld, no time), for
  ``syndicate status``.
"""

from __future__ import annotations

import math
from typing import Any

import redis
from redis.exceptions import WatchError

from worker.storage import keys
from worker.storage.base import guarded, now, text
from worker.storage.connect import Acked

LIFE = "life"  # the due-time kind (``WorkStore.due_take("life")``)


def write_lives(p: Any, items: list[tuple[str, float | None, float | None]]) -> None:
    """In a commit's transaction: each (article id, next life-cycle due time, embargo end), a
    command per key, not per article."""
    for key, values in (
        (keys.due(LIFE), {i: d for i, d, _ in items}),
        (keys.EMBARGOED, {i: e for i, _, e in items}),
    ):
        gone = [i for i, v in values.items() if v is None]
        if gone:
            p.zrem(key, *gone)
        kept = {i: v for i, v in values.items() if v is not None}
        if kept:
            p.zadd(key, kept)


class LifecycleStore(Acked):
    r: redis.Redis

    def kill(self, article_id: str, reason: str) -> None:
        """Record an operator's kill and have the article looked at now (acknowledged write)."""
        what = f"withdraw {article_id}"
        with self.acked(what) as r, guarded(what), r.pipeline(transaction=True) as p:
            p.set(keys.kill(article_id), reason)
            p.zadd(keys.due(LIFE), {article_id: now()})
            p.execute()

    def unkill(self, article_id: str) -> bool:
        """Undo a kill; False when there was none."""
        what = f"restore {article_id}"
        with self.acked(what) as r, guarded(what), r.pipeline(transaction=True) as p:
            p.delete(keys.kill(article_id))
            p.zadd(keys.due(LIFE), {article_id: now()})
            removed, _ = p.execute()
        return bool(removed)

    def kills(self, ids: list[str]) -> dict[str, str]:
        """The kills in force among ``ids``: id -> reason, in one round trip."""
        with guarded("read withdrawals"):
            rows = self.r.mget([keys.kill(i) for i in ids]) if ids else []
        return {i: str(text(v)) for i, v in zip(ids, rows, strict=True) if v is not None}

    def settle_life(self, article_id: str, version: int, due: float | None) -> None:
        """A revisit found nothing to change: the next due time of the article at ``version``
        (none: forgotten), unless it changed meanwhile or new input waits (its ingest decides)."""
        art, staged = keys.article(article_id), keys.staged(article_id)
        with guarded(f"schedule {article_id}"), self.r.pipeline(transaction=True) as p:
            try:
                p.watch(art, staged, keys.kill(article_id))
                if p.exists(staged) or text(p.hget(art, "version")) not in (str(version), None):
                    p.unwatch()
                    return
                p.multi()
                if due is None:
                    p.zrem(keys.due(LIFE), article_id)
                else:
                    p.zadd(keys.due(LIFE), {article_id: due})
                p.execute()
            except WatchError:
                return

    def embargoes(self) -> tuple[int, str | None, float | None]:
        """How many articles are embargoed, and the next embargo to lift (id, time) if any has one."""
        with guarded("read embargoes"), self.r.pipeline(transaction=False) as p:
            p.zcard(keys.EMBARGOED)
            p.zrangebyscore(keys.EMBARGOED, "-inf", "(inf", start=0, num=1, withscores=True)
            count, first = p.execute()
        if not first:
            return int(count), None, None
        member, score = first[0]
        return int(count), str(text(member)), float(score) if math.isfinite(score) else None
