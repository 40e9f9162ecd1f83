"""One webhook attempt for one delivery, and what follows from its outcome.

The delivery record in Redis is the truth: this function reads it, sends at most one attempt,
and writes the outcome with the time of the next attempt (kept in Redis, never as a Celery ETA).
The rules (retry or not, when to disable, admission) live in ``worker.delivery_policy``.

The steps of ``attempt``, in order:

1. take the delivery's lease (one worker per delivery at a time) and check it is due;
2. check the subscription is enabled and the target allowed (SSRF, checked again at connect);
3. take an in-flight slot under the subscription's cap and rate limit, or push the delivery's
   due time back a little: a busy receiver never holds a worker that others could use;
4. sign (fresh timestamp, same ``webhook-id``), post, record the outcome and the next due time.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

from worker.delivery_policy import (
    MAX_IN_FLIGHT,
    Decision,
    admission_delay,
    current_secrets,
    decide,
    should_disable,
)
from worker.models import Delivery, Subscription
from worker.runtime import Runtime
from worker.webhooks.http import AttemptResult, post
from worker.webhooks.retry import parse_schedule
from worker.webhooks.signing import headers
from worker.webhooks.ssrf import ForbiddenTarget, check_url

log = logging.getLogger("syndicate.deliver")
_rng = random.SystemRandom()
# A success refreshes ``last_success_at`` at most this often (one write per minute, not per event).
SUCCESS_MARK_EVERY = timedelta(seconds=60)

__all__ = ["attempt", "current_secrets"]


def attempt(rt: Runtime, delivery_id: str) -> str:
    """Send one attempt of ``delivery_id`` if it is due; idempotent under repeated messages."""
    store = rt.store
    lease = rt.settings.webhook_timeout + 30
    # The owner is this call, not this process: a threads-pool worker runs many attempts at once
    # under one node name, and two of them must never hold the same delivery.
    owner = f"{rt.node}:{uuid.uuid4().hex[:12]}"
    if not store.acquire(f"dlv:{delivery_id}", owner, ttl=lease):
        return "held by another worker"
    try:
        d = store.delivery(delivery_id)
        if d is None or d.status in ("succeeded", "dead"):
            return "nothing to do"
        now = datetime.now(UTC)
        if d.next_attempt_at and d.next_attempt_at - now > timedelta(seconds=1):
            store.save_delivery(d, due_at=d.next_attempt_at.timestamp())
            return "not due yet"
        sub = store.subscription(d.subscription_id)
        if sub is None or not sub.enabled:
            reason = (
                "subscription deleted" if sub is None else f"subscription disabled: {sub.disabled_reason}"
            )
            return _finish(rt, d, status="dead", error=reason)
        body = store.payload(d.payload_key)
        if body is None:
            return _finish(rt, d, status="dead", error="event payload expired")
        allow_private = rt.settings.webhook_allow_private
        try:
            check_url(sub.url, allow_private=allow_private)
        except ForbiddenTarget as exc:
            return _finish(rt, d, status="dead", error=f"forbidden target: {exc}")
        wait = store.admit(sub.id, d.id, max_in_flight=MAX_IN_FLIGHT, rate_limit=sub.rate_limit, lease=lease)
        if wait != 0:
            delay = admission_delay(None if wait < 0 else wait, _rng)
            store.due_add("deliver", d.id, time.time() + delay)
            return f"held back {delay:.2f}s ({'in-flight cap' if wait < 0 else 'rate limit'})"
        try:
            hdrs = headers(current_secrets(sub, now), d.webhook_id, int(time.time()), body)
            result = post(
                rt.session,
                sub.url,
                body,
                hdrs,
                timeout=rt.settings.webhook_timeout,
                allow_private=allow_private,
            )
            return _record(rt, d, sub, result)
        finally:
            store.release_slot(sub.id, d.id)
    finally:
        store.release(f"dlv:{delivery_id}", owner)


def _record(rt: Runtime, d: Delivery, sub: Subscription, result: AttemptResult) -> str:
    store = rt.store
    now = datetime.now(UTC)
    d.attempts += 1
    d.last_status_code = result.status_code
    d.last_error = result.error
    d.last_duration_ms = round(result.duration_ms, 1)
    d.last_response = result.response_body
    store.incr("delivery_seconds_total", result.duration_ms / 1000)
    decision = decide(result, d.attempts, parse_schedule(rt.settings.webhook_retry_schedule), _rng)
    if decision.status == "succeeded":
        store.incr("deliveries_succeeded")
        _mark_success(rt, sub, now)
        return _finish(rt, d, status="succeeded")
    store.incr("delivery_attempts_failed")
    disabled = _mark_failure(rt, sub, decision, now)
    if decision.status == "dead" or decision.retry_in is None or disabled:
        return _finish(rt, d, status="dead", error=result.error or disabled)
    d.status = "failed"
    d.next_attempt_at = now + timedelta(seconds=decision.retry_in)
    d.updated_at = now
    store.save_delivery(d, due_at=d.next_attempt_at.timestamp())
    log.info(
        "delivery attempt failed",
        extra={"delivery_id": d.id, "subscription_id": d.subscription_id, "error": result.error},
    )
    return f"failed, next attempt in {decision.retry_in:.1f}s"


def _mark_success(rt: Runtime, sub: Subscription, now: datetime) -> None:
    fresh = sub.last_success_at is not None and now - sub.last_success_at < SUCCESS_MARK_EVERY
    if fresh and sub.failing_since is None:
        return

    def change(current: Subscription) -> Subscription:
        return current.model_copy(update={"last_success_at": now, "failing_since": None})

    rt.store.update_subscription(sub.id, change)


def _mark_failure(rt: Runtime, sub: Subscription, decision: Decision, now: datetime) -> str | None:
    """Start the failing clock, or disable the subscription (410, or 5 days without success).

    Returns the reason when this call disabled the subscription."""
    clock_running = sub.failing_since is not None and decision.disable is None
    if clock_running and not should_disable(sub.failing_since, sub.last_success_at, now):
        return None  # nothing changes: no write
    disabled: list[str] = []

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

    rt.store.update_subscription(sub.id, change)
    if disabled:
        rt.store.incr("subscriptions_disabled")
        log.warning("subscription disabled", extra={"subscription_id": sub.id, "reason": disabled[-1]})
        return disabled[-1]
    return None


def _finish(rt: Runtime, d: Delivery, *, status: str, error: str | None = None) -> str:
    d.status = status  # type: ignore[assignment]
    d.next_attempt_at = None
    d.updated_at = datetime.now(UTC)
    if error:
        d.last_error = error
    rt.store.save_delivery(d, due_at=None)
    if status == "dead":
        rt.store.incr("deliveries_dead")
    rt.store.trim_deliveries(d.subscription_id, rt.settings.delivery_retention)
    log.info("delivery %s", status, extra={"delivery_id": d.id, "subscription_id": d.subscription_id})
    return status
