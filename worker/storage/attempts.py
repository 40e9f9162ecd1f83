"""Attempts in flight: admission (in-flight cap, rate limit) and batches of attempts.

A batch of deliveries costs a few round trips however many it holds: leases and records in one
script, inputs in one pipeline, admission in one script, all outcomes in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import redis

from worker.models import Delivery, Subscription
from worker.storage import keys
from worker.storage.base import StorageUnavailable, Unreleased, guarded, write_deliveries
from worker.storage.scripts import Scripts


def _lease_key(delivery_id: str) -> str:
    return keys.lock(f"dlv:{delivery_id}")


@dataclass
class DeliveryWrites:
    """What a batch of attempts writes at its end, in one transaction (see ``write_deliveries``)."""

    owner: str  # the owner of the leases to give up
    leases: list[str] = field(default_factory=list)  # delivery ids
    saves: list[tuple[Delivery, float | None]] = field(default_factory=list)  # record, due time
    due: dict[str, float] = field(default_factory=dict)  # delivery id -> due time only
    counters: dict[str, float] = field(default_factory=dict)

    def count(self, name: str, amount: float = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + amount


class AttemptStore:
    r: redis.Redis
    scripts: Scripts
    unreleased: Unreleased

    # -- admission: in-flight cap and rate limit per subscription ------------------------------
    def admit(
        self,
        subscription_id: str,
        delivery_id: str,
        *,
        max_in_flight: int,
        rate_limit: int | None,
        lease: float,
    ) -> float:
        """0.0 when the attempt may go now (hold a slot until ``release_slot``); a negative number
        when the subscription has ``max_in_flight`` attempts under way; else seconds to wait
        for the rate limit."""
        names = [keys.in_flight(subscription_id), keys.rate(subscription_id)]
        args = [delivery_id, max(1, max_in_flight), lease, rate_limit or 0]
        with guarded(f"admit delivery {delivery_id}"):
            return float(self.scripts.admit(keys=names, args=args))

    def release_slot(self, subscription_id: str, delivery_id: str) -> None:
        with guarded(f"release slot of {delivery_id}"):
            self.r.zrem(keys.in_flight(subscription_id), delivery_id)

    def release_slots(self, pairs: list[tuple[str, str]]) -> None:
        """``release_slot`` for many (subscription id, delivery id) pairs, in one round trip."""
        if not pairs:
            return
        with guarded("release slots"), self.r.pipeline(transaction=False) as p:
            for subscription_id, delivery_id in pairs:
                p.zrem(keys.in_flight(subscription_id), delivery_id)
            p.execute()

    def in_flight(self, subscription_id: str) -> int:
        with guarded("count in-flight attempts"):
            return int(self.r.zcard(keys.in_flight(subscription_id)))

    def lease_deliveries(self, ids: list[str], owner: str, ttl: float) -> dict[str, Delivery | None]:
        """Take the leases of ``ids`` for ``owner``; the records of those taken (None: gone).

        A lease whose holder was a killed process of this host is taken over (``acquire``)."""
        if not ids:
            return {}
        ms = max(1, int(ttl * 1000))
        names = [_lease_key(i) for i in ids] + [keys.delivery(i) for i in ids]
        with guarded("lease deliveries"):
            self._release_pending()  # type: ignore[attr-defined]
            flat = self.scripts.lease(keys=names, args=[owner, ms])
        out: dict[str, Delivery | None] = {}
        for i, held, value in zip(ids, flat[::2], flat[1::2], strict=True):
            if int(held):
                out[i] = Delivery.model_validate_json(value) if value else None
            elif value and self.acquire(f"dlv:{i}", owner, ttl=ttl):  # type: ignore[attr-defined]
                out[i] = self.delivery(i)
        return out

    def delivery_inputs(
        self, sub_ids: Iterable[str], payload_keys: Iterable[str]
    ) -> tuple[dict[str, Subscription], dict[str, bytes]]:
        """The subscriptions and event payloads that exist among those asked, in one round trip."""
        subs, payloads = sorted(set(sub_ids)), sorted(set(payload_keys))
        if not subs and not payloads:
            return {}, {}
        with guarded("read subscriptions and payloads"), self.r.pipeline(transaction=False) as p:
            if subs:
                p.mget([keys.subscription(n) for n in subs])
            if payloads:
                p.mget([keys.payload(n) for n in payloads])
            rows = p.execute()
        raw_subs = rows.pop(0) if subs else []
        raw_payloads = rows.pop(0) if payloads else []
        found = {i: Subscription.model_validate_json(r) for i, r in zip(subs, raw_subs, strict=True) if r}
        return found, {k: r for k, r in zip(payloads, raw_payloads, strict=True) if r is not None}

    def admit_many(
        self, requests: list[tuple[str, str, int | None]], *, max_in_flight: int, lease: float
    ) -> list[float]:
        """``admit`` for each (subscription id, delivery id, rate limit), in order, one round trip."""
        if not requests:
            return []
        names = [k for sub_id, _, _ in requests for k in (keys.in_flight(sub_id), keys.rate(sub_id))]
        args: list[str | float] = [max(1, max_in_flight), lease]
        args += [a for _, delivery_id, rate in requests for a in (delivery_id, rate or 0)]
        with guarded("admit deliveries"):
            return [float(x) for x in self.scripts.admit_many(keys=names, args=args)]

    def write_deliveries(self, w: DeliveryWrites, *, keep: int) -> None:
        """Write a batch's outcomes and release its leases: one transaction. Then trim the
        delivery logs of the subscriptions that saved a final record, if over ``keep``."""
        final = sorted({d.subscription_id for d, due in w.saves if due is None})
        due = {**w.due, **{d.id: at for d, at in w.saves if at is not None}}
        done = [d.id for d, at in w.saves if at is None and d.id not in w.due]
        with guarded("write deliveries"), self.r.pipeline(transaction=True) as p:
            write_deliveries(p, [d for d, _ in w.saves])
            if done:
                p.zrem(keys.due("deliver"), *done)
            if due:
                p.zadd(keys.due("deliver"), due)
            for name, amount in w.counters.items():
                p.hincrbyfloat(keys.STATS, name, amount)
            first = len(p.command_stack)  # the log sizes, then whether each sub exists, from here
            for sub_id in final:
                p.zcard(keys.delivery_log(sub_id))
            for sub_id in final:
                p.exists(keys.subscription(sub_id))
            if w.leases:
                self.scripts.release_many(keys=[_lease_key(i) for i in w.leases], args=[w.owner], client=p)
            answers = p.execute()[first : first + 2 * len(final)]
        for sub_id, size, exists in zip(final, answers[: len(final)], answers[len(final) :], strict=True):
            if not exists:  # deleted: its last deliveries go too
                self.trim_deliveries(sub_id, 0)
            elif keep and int(size) > keep:
                self.trim_deliveries(sub_id, keep)

    def release_leases(self, ids: list[str], owner: str) -> None:
        """Give up the leases of ``ids`` that ``owner`` holds; when Redis is away, remember them
        for this process's next lock call (as ``release`` does)."""
        try:
            with guarded("release delivery leases"):
                self.scripts.release_many(keys=[_lease_key(i) for i in ids], args=[owner])
        except StorageUnavailable:
            self.unreleased.add([(_lease_key(i), owner) for i in ids])
            raise
