"""Webhook attempts for a batch of deliveries, and what follows from their outcomes.

The delivery records in Redis are the truth: ``attempt_many`` reads them, sends at most one
attempt per delivery, and writes the outcomes with the time of each next attempt (kept in Redis,
never as a Celery ETA). The rules (retry or not, when to disable, admission) live in
``worker.delivery_policy``; the Redis side of a batch costs a handful of round trips, not a dozen
per delivery.

The steps of ``attempt_many``, in order:

1. take the deliveries' leases (one worker per delivery at a time), reading their records in the
   same round trip, and keep those that are due;
2. read their subscriptions and event payloads (each once per batch); a deleted or disabled
   subscription or an expired payload ends the delivery;
3. take an in-flight slot under each subscription's cap and rate limit, or push the delivery's
   due time back a little: a busy receiver never holds a worker that others could use;
4. check the target (SSRF, checked again at connect), sign (fresh timestamp, same ``webhook-id``)
   and post, concurrently on ``pool``; an attempt that could not start while its lease was still
   long enough is not sent, and is due again at once;
5. as each wave of attempts ends (``worker.webhooks.waves``): decide its outcomes, mark
   subscriptions succeeded (batched) or failing (may disable), release its slots, and write its
   records, due times, counters and leases in one transaction, so a slow receiver in the batch
   never holds back the others;
6. write what is left (deliveries held back or not due, and their leases): one transaction.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import UTC, datetime, timedelta

from worker.delivery_policy import (
    Decision,
    admission_delay,
    current_secrets,
    decide,
    should_disable,
)
from worker.models import Delivery, Subscription
from worker.runtime import Runtime
from worker.storage import StorageUnavailable
from worker.storage.attempts import DeliveryWrites
from worker.webhooks.http import AttemptResult
from worker.webhooks.retry import parse_schedule
from worker.webhooks.waves import Job, send_waves

log = logging.getLogger("syndicate.deliver")
CAP_PATIENCE = 0.5  # seconds a batch waits for a subscription's in-flight slots before deferring
CAP_POLL = 0.01
_rng = random.SystemRandom()
# A success refreshes ``last_success_at`` at most this often (one write per minute, not per event).
SUCCESS_MARK_EVERY = timedelta(seconds=60)
# An attempt starts only while its lease has at least the webhook timeout plus this much left.
LEASE_MARGIN = 5.0

__all__ = ["attempt_many", "current_secrets"]


def attempt_many(rt: Runtime, delivery_ids: list[str], pool: Executor | None = None) -> list[str]:
    """Attempt each due delivery of ``delivery_ids`` once; one outcome line per id, in order.

    Idempotent: a repeated message finds the deliveries done, not due, or leased elsewhere."""
    store, ids = rt.store, list(dict.fromkeys(delivery_ids))
    lease = rt.settings.webhook_timeout + 30
    # The owner is this call, not this process: a threads-pool worker runs many batches at once
    # under one node name, and two of them must never hold the same delivery.
    owner = rt.lock_owner()
    start_by = time.monotonic() + lease - rt.settings.webhook_timeout - LEASE_MARGIN
    held = store.lease_deliveries(ids, owner, ttl=lease)
    out = {i: "held by another worker" for i in ids if i not in held}
    w = DeliveryWrites(owner=owner, leases=list(held))
    try:
        pending = _ready(rt, held, w, out)
        # Rounds: each sends what the in-flight cap admits now; jobs over the cap wait for a later
        # round (slots free as attempts end, in this batch or another), so a busy subscription
        # keeps its pace without ever exceeding the cap. Jobs still capped after CAP_PATIENCE,
        # and rate-limited ones, are deferred to a due time instead of holding this thread.
        patience = time.monotonic() + CAP_PATIENCE
        while pending:
            waits = store.admit_many(
                [(sub.id, d.id, sub.rate_limit) for d, sub, _ in pending],
                max_in_flight=rt.settings.webhook_max_in_flight,
                lease=lease,
            )
            admitted = [job for job, wait in zip(pending, waits, strict=True) if wait == 0]
            capped = [job for job, wait in zip(pending, waits, strict=True) if wait < 0]
            patient = bool(admitted) or time.monotonic() < patience
            for job, wait in zip(pending, waits, strict=True):
                if wait > 0 or (wait < 0 and not patient):
                    delay = admission_delay(None if wait < 0 else wait, _rng)
                    w.due[job[0].id] = time.time() + delay
                    why = "in-flight cap" if wait < 0 else "rate limit"
                    out[job[0].id] = f"held back {delay:.2f}s ({why})"
            if not admitted:
                if not patient or not capped:
                    break
                time.sleep(CAP_POLL)  # the cap is held by other batches: their attempts end soon
                pending = capped
                continue
            _send(rt, admitted, pool, start_by, w, out)
            pending = capped
        store.write_deliveries(w, keep=rt.settings.delivery_retention)
    except BaseException:
        with contextlib.suppress(StorageUnavailable):  # the first error is the one to report
            store.release_leases(w.leases, owner)
        raise
    return [out[i] for i in delivery_ids]


def _ready(
    rt: Runtime, held: dict[str, Delivery | None], w: DeliveryWrites, out: dict[str, str]
) -> list[Job]:
    """The leased deliveries that are due and can be sent; the others get their outcome."""
    now = datetime.now(UTC)
    due: list[Delivery] = []
    for i, d in held.items():
        if d is None or d.status in ("succeeded", "dead"):
            out[i] = "nothing to do"
        elif d.next_attempt_at and d.next_attempt_at - now > timedelta(seconds=1):
            w.due[i] = d.next_attempt_at.timestamp()
            out[i] = "not due yet"
        else:
            due.append(d)
    if not due:
        return []
    subs, bodies = rt.store.delivery_inputs((d.subscription_id for d in due), (d.payload_key for d in due))
    jobs: list[Job] = []
    for d in due:
        sub, body = subs.get(d.subscription_id), bodies.get(d.payload_key)
        if sub is None or not sub.enabled:
            why = "subscription deleted" if sub is None else f"subscription disabled: {sub.disabled_reason}"
            out[d.id] = _finish(w, d, status="dead", error=why)
        elif body is None:
            out[d.id] = _finish(w, d, status="dead", error="event payload expired")
        else:
            jobs.append((d, sub, body))
    return jobs


def _send(
    rt: Runtime,
    jobs: list[Job],
    pool: Executor | None,
    start_by: float,
    w: DeliveryWrites,
    out: dict[str, str],
) -> None:
    """Send ``jobs``; record each wave of outcomes as it ends (its records, slots and leases), so a
    slow receiver in the batch never holds back the others' outcomes or in-flight slots."""
    waves = send_waves(
        jobs,
        pool,
        session=rt.session,
        timeout=rt.settings.webhook_timeout,
        allow_private=rt.settings.allow_private_targets,
        start_by=start_by,
    )
    for wave in waves:
        done = [jobs[i] for i, _ in wave]
        ids = {d.id for d, _, _ in done}
        part = DeliveryWrites(owner=w.owner, leases=[i for i in w.leases if i in ids])
        w.leases = [i for i in w.leases if i not in ids]
        _outcomes(rt, done, [r for _, r in wave], part, out)
        rt.store.release_slots([(sub.id, d.id) for d, sub, _ in done])
        rt.store.write_deliveries(part, keep=rt.settings.delivery_retention)


def _outcomes(
    rt: Runtime,
    jobs: list[Job],
    results: list[AttemptResult | str | None],
    w: DeliveryWrites,
    out: dict[str, str],
) -> None:
    schedule = parse_schedule(rt.settings.webhook_retry_schedule)
    now = datetime.now(UTC)
    succeeded: set[str] = set()
    disabled: dict[str, str] = {}  # subscriptions this batch disabled -> reason
    for (d, sub, _), result in zip(jobs, results, strict=True):
        if result is None:
            w.due[d.id] = time.time()
            out[d.id] = "not sent: lease ran short, due again now"
        elif isinstance(result, str):
            out[d.id] = _finish(w, d, status="dead", error=result)
        else:
            out[d.id] = _record(rt, w, d, sub, result, schedule, now, succeeded, disabled)
    _mark_success(rt, [s for _, s, _ in jobs if s.id in succeeded], now)


def _record(
    rt: Runtime,
    w: DeliveryWrites,
    d: Delivery,
    sub: Subscription,
    result: AttemptResult,
    schedule: list[float],
    now: datetime,
    succeeded: set[str],
    disabled: dict[str, str],
) -> str:
    d.attempts += 1
    d.last_status_code = result.status_code
    d.last_error = result.error
    d.last_duration_ms = round(result.duration_ms, 1)
    d.last_response = result.response_body
    w.count("delivery_seconds_total", result.duration_ms / 1000)
    decision = decide(result, d.attempts, schedule, _rng)
    if decision.status == "succeeded":
        w.count("deliveries_succeeded")
        succeeded.add(sub.id)
        return _finish(w, d, status="succeeded")
    w.count("delivery_attempts_failed")
    if sub.id not in disabled:
        reason = _mark_failure(rt, sub, decision, now)
        if reason is not None:
            disabled[sub.id] = reason
    gone = disabled.get(sub.id)
    if decision.status == "dead" or decision.retry_in is None or gone:
        return _finish(w, d, status="dead", error=result.error or gone)
    d.status = "failed"
    d.next_attempt_at = now + timedelta(seconds=decision.retry_in)
    d.updated_at = now
    w.saves.append((d, d.next_attempt_at.timestamp()))
    log.info(
        "delivery attempt failed",
        extra={"delivery_id": d.id, "subscription_id": d.subscription_id, "error": result.error},
    )
    return f"failed, next attempt in {decision.retry_in:.1f}s"


def _mark_success(rt: Runtime, subs: list[Subscription], now: datetime) -> None:
    """Set ``last_success_at`` (and stop the failing clock) where it is stale: one transaction."""
    stale = {
        s.id
        for s in subs
        if s.failing_since is not None
        or s.last_success_at is None
        or now - s.last_success_at >= SUCCESS_MARK_EVERY
    }

    def change(current: Subscription) -> Subscription:
        return current.model_copy(update={"last_success_at": now, "failing_since": None})

    rt.store.update_subscriptions(stale, change)


def _mark_failure(rt: Runtime, sub: Subscription, decision: Decision, now: datetime) -> str | None:
    """Start the failing clock, or disable the subscription (410, or 5 days without success).

    Returns the reason when this call disabled the subscription."""
    clock_running = sub.failing_since is not None and decision.disable is None
    if clock_running and not should_disable(sub.failing_since, sub.last_success_at, now):
        return None  # nothing changes: no write
    disabled: list[str] = []
    change = _failure_change(decision, now, disabled)
    rt.store.update_subscription(sub.id, change)
    if disabled:
        rt.store.incr("subscriptions_disabled")
        log.warning("subscription disabled", extra={"subscription_id": sub.id, "reason": disabled[-1]})
        return disabled[-1]
    return None


def _failure_change(
    decision: Decision, now: datetime, disabled: list[str]
) -> Callable[[Subscription], Subscription | None]:
    def change(current: Subscription) -> Subscription | None:
        if not current.enabled:
            return None
        reason = decision.disable
        if reason is None and should_disable(current.failing_since, current.last_success_at, now):
            reason = "failing for 5 days without a success"
        if reason is not None:
            disabled.append(reason)
            return current.model_copy(update={"enabled": False, "disabled_reason": reason})
        if current.failing_since is None:
            return current.model_copy(update={"failing_since": now})
        return None

    return change


def _finish(w: DeliveryWrites, d: Delivery, *, status: str, error: str | None = None) -> str:
    d.status = status  # type: ignore[assignment]
    d.next_attempt_at = None
    d.updated_at = datetime.now(UTC)
    if error:
        d.last_error = error
    w.saves.append((d, None))
    if status == "dead":
        w.count("deliveries_dead")
    # A success is in the delivery log (API, CLI) and the counters; a line per delivery at INFO
    # would be 500 lines for one article with 500 subscribers. Giving up is worth a warning.
    level = logging.WARNING if status == "dead" else logging.DEBUG
    log.log(level, "delivery %s", status, extra={"delivery_id": d.id, "subscription_id": d.subscription_id})
    return status
