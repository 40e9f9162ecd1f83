"""Subscriptions, deliveries and the event payloads they send."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import nullcontext

import redis

from worker.models import Delivery, DeliveryStatus, Subscription
from worker.storage import keys
from worker.storage.base import guarded, write_deliveries
from worker.storage.connect import Acked
from worker.storage.scripts import Scripts


class HookStore(Acked):
    r: redis.Redis
    scripts: Scripts

    # -- subscriptions ------------------------------------------------------------------------
    def save_subscription(self, sub: Subscription) -> None:
        what = f"save subscription {sub.id}"
        with self.acked(what) as r, guarded(what), r.pipeline(transaction=True) as p:
            old = r.get(keys.subscription(sub.id))
            if old:
                previous = Subscription.model_validate_json(old)
                p.srem(keys.audience_subscriptions(previous.audience), sub.id)
            p.set(keys.subscription(sub.id), sub.model_dump_json())
            p.sadd(keys.SUBSCRIPTIONS, sub.id)
            p.sadd(keys.audience_subscriptions(sub.audience), sub.id)
            _mark_disabled(p, sub)
            p.incr(keys.SUBS_VERSION)
            p.execute()

    def update_subscription(
        self, sub_id: str, change: Callable[[Subscription], Subscription | None]
    ) -> Subscription | None:
        """Apply ``change`` to the stored subscription atomically (optimistic, retried on a race).

        ``change`` gets the current record and returns the new one, or None to leave it as it
        is. Workers use this rather than ``save_subscription`` so that an attempt that took
        seconds never writes back a stale copy over a rotation or an edit made meanwhile.
        """
        k = keys.subscription(sub_id)
        with guarded(f"update subscription {sub_id}"):
            for _ in range(20):
                with self.r.pipeline(transaction=True) as p:
                    try:
                        p.watch(k)
                        raw = p.get(k)
                        if not raw:
                            return None
                        new = change(Subscription.model_validate_json(raw))
                        if new is None:
                            return None
                        p.multi()
                        p.set(k, new.model_dump_json())
                        _mark_disabled(p, new)
                        p.incr(keys.SUBS_VERSION)
                        p.execute()
                        return new
                    except redis.WatchError:
                        continue
        return None

    def subscription(self, sub_id: str) -> Subscription | None:
        with guarded(f"read subscription {sub_id}"):
            raw = self.r.get(keys.subscription(sub_id))
        return Subscription.model_validate_json(raw) if raw else None

    def delete_subscription(self, sub_id: str) -> bool:
        sub = self.subscription(sub_id)
        if sub is None:
            return False
        what = f"delete subscription {sub_id}"
        with self.acked(what) as r, guarded(what), r.pipeline(transaction=True) as p:
            p.delete(keys.subscription(sub_id))
            p.srem(keys.SUBSCRIPTIONS, sub_id)
            p.srem(keys.audience_subscriptions(sub.audience), sub_id)
            p.srem(keys.SUBS_DISABLED, sub_id)
            p.incr(keys.SUBS_VERSION)
            p.execute()
        # Its delivery log goes with it; deliveries still due end as "subscription deleted" at
        # their next attempt and are dropped then (write_deliveries).
        self.trim_deliveries(sub_id, keep=0)
        return True

    def subscriptions_version(self) -> int:
        """A counter that moves with every change to any subscription (for caches)."""
        with guarded("read subscriptions version"):
            return int(self.r.get(keys.SUBS_VERSION) or 0)

    def disabled_subscription_count(self) -> int:
        """How many subscriptions are disabled: one set kept by every write above, so a metrics
        scrape costs one command however many subscriptions there are. A Redis written before
        that set existed gets it built once, atomically, on the first call."""
        names = [keys.SUBS_DISABLED, keys.SUBS_DISABLED_BUILT, keys.SUBSCRIPTIONS]
        with guarded("count disabled subscriptions"):
            return int(self.scripts.disabled_count(keys=names, args=[keys.subscription("")]))

    def subscriptions(self, audience: str | None = None) -> list[Subscription]:
        index = keys.audience_subscriptions(audience) if audience else keys.SUBSCRIPTIONS
        with guarded("list subscriptions"):
            ids = sorted(m.decode() for m in self.r.smembers(index))
            if not ids:
                return []
            rows = self.r.mget([keys.subscription(i) for i in ids])
        return [Subscription.model_validate_json(raw) for raw in rows if raw]

    # -- deliveries ---------------------------------------------------------------------------
    def save_delivery(self, d: Delivery, *, due_at: float | None = None, acked: bool = False) -> None:
        """Write the delivery; schedule its next attempt at ``due_at``, or none when final.
        ``acked``: an acknowledged write (a replay asked for through the API)."""
        what = f"save delivery {d.id}"
        with (
            self.acked(what) if acked else nullcontext(self.r) as r,
            guarded(what),
            r.pipeline(transaction=True) as p,
        ):
            _save(p, d, due_at)
            p.execute()

    def delivery(self, delivery_id: str) -> Delivery | None:
        with guarded(f"read delivery {delivery_id}"):
            raw = self.r.get(keys.delivery(delivery_id))
        return Delivery.model_validate_json(raw) if raw else None

    def deliveries(
        self, subscription_id: str | None = None, limit: int = 100, status: DeliveryStatus | None = None
    ) -> list[Delivery]:
        """Newest first; with ``status``, the newest ``limit`` of that status (the log is scanned)."""
        log = keys.delivery_log(subscription_id) if subscription_id else keys.DELIVERY_LOG
        out: list[Delivery] = []
        start, batch = 0, max(limit, 100) if status else limit
        with guarded("list deliveries"):
            while len(out) < limit:
                ids = [m.decode() for m in self.r.zrevrange(log, start, start + batch - 1)]
                if not ids:
                    break
                rows = self.r.mget([keys.delivery(i) for i in ids])
                found = [Delivery.model_validate_json(raw) for raw in rows if raw]
                out += [d for d in found if status is None or d.status == status]
                if status is None or len(ids) < batch:
                    break
                start += batch
        return out[:limit]

    def deliveries_since(self, subscription_id: str, since: float) -> list[Delivery]:
        with guarded("list deliveries"):
            ids = [
                m.decode() for m in self.r.zrangebyscore(keys.delivery_log(subscription_id), since, "+inf")
            ]
            rows = self.r.mget([keys.delivery(i) for i in ids]) if ids else []
        return [Delivery.model_validate_json(raw) for raw in rows if raw]

    def trim_deliveries(self, subscription_id: str, keep: int) -> int:
        """Forget the oldest finished deliveries beyond ``keep`` (0: every finished one) for one
        subscription; deliveries still due are kept."""
        log = keys.delivery_log(subscription_id)
        with guarded("trim deliveries"):
            old = [m.decode() for m in self.r.zrange(log, 0, -keep - 1)]
            if not old:
                return 0
            pending = self.r.zmscore(keys.due("deliver"), old)
            drop = [d for d, score in zip(old, pending, strict=True) if score is None]
            if drop:
                with self.r.pipeline(transaction=False) as p:
                    p.zrem(log, *drop)
                    p.zrem(keys.DELIVERY_LOG, *drop)
                    p.delete(*[keys.delivery(d) for d in drop])
                    p.execute()
        return len(drop)

    def update_subscriptions(
        self, sub_ids: Iterable[str], change: Callable[[Subscription], Subscription | None]
    ) -> None:
        """``update_subscription`` for many at once: one optimistic transaction, retried on a race."""
        ids = sorted(set(sub_ids))
        if not ids:
            return
        names = [keys.subscription(i) for i in ids]
        with guarded("update subscriptions"):
            for _ in range(20):
                with self.r.pipeline(transaction=True) as p:
                    try:
                        p.watch(*names)
                        rows = p.mget(names)
                        new = [
                            (k, change(Subscription.model_validate_json(r)))
                            for k, r in zip(names, rows, strict=True)
                            if r
                        ]
                        writes = [(k, s) for k, s in new if s is not None]
                        if not writes:
                            return
                        p.multi()
                        for k, s in writes:
                            p.set(k, s.model_dump_json())
                            _mark_disabled(p, s)
                        p.incr(keys.SUBS_VERSION)
                        p.execute()
                        return
                    except redis.WatchError:
                        continue


def _mark_disabled(p: redis.client.Pipeline, sub: Subscription) -> None:
    if sub.enabled:
        p.srem(keys.SUBS_DISABLED, sub.id)
    else:
        p.sadd(keys.SUBS_DISABLED, sub.id)


def _save(p: redis.client.Pipeline, d: Delivery, due_at: float | None) -> None:
    write_deliveries(p, [d])
    if due_at is None:
        p.zrem(keys.due("deliver"), d.id)
    else:
        p.zadd(keys.due("deliver"), {d.id: due_at})
