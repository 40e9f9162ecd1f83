"""One webhook attempt for one delivery, and what follows from its outcome.

The delivery record in Redis is the truth: this function reads it, sends at most one attempt,
and writes the outcome with the time of the next attempt (kept in Redis, never as a Celery ETA).
"""

from __future__ import annotations

import logging
import random
import time
from datetime import UTC, datetime, timedelta

from worker.models import Delivery, Subscription
from worker.runtime import Runtime
from worker.webhooks.http import AttemptResult, post
from worker.webhooks.retry import next_delay, parse_schedule
from worker.webhooks.signing import headers
from worker.webhooks.ssrf import ForbiddenTarget, check_url

log = logging.getLogger("syndicate.deliver")
DISABLE_AFTER = timedelta(days=5)
_rng = random.SystemRandom()


def current_secrets(sub: Subscription, at: datetime) -> list[str]:
    """The secrets to sign with: the newest, plus the previous one during a rotation window."""
    if len(sub.secrets) > 1 and sub.previous_secret_until and at < sub.previous_secret_until:
        return sub.secrets[:2]
    return sub.secrets[:1]


def attempt(rt: Runtime, delivery_id: str) -> str:
    """Send one attempt of ``delivery_id`` if it is due; idempotent under repeated messages."""
    store = rt.store
    if not store.acquire(f"dlv:{delivery_id}", rt.node, ttl=rt.settings.webhook_timeout + 30):
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
            return _finish(rt, d, None, status="dead", error=reason)
        body = store.payload(d.payload_key)
        if body is None:
            return _finish(rt, d, sub, status="dead", error="event payload expired")
        allow_private = rt.settings.webhook_allow_private
        try:
            check_url(sub.url, allow_private=allow_private)
        except ForbiddenTarget as exc:
            return _finish(rt, d, sub, status="dead", error=f"forbidden target: {exc}")
        sent_at = int(time.time())
        hdrs = headers(current_secrets(sub, now), d.webhook_id, sent_at, body)
        result = post(
            rt.session, sub.url, body, hdrs, timeout=rt.settings.webhook_timeout, allow_private=allow_private
        )
        return _record(rt, d, sub, result)
    finally:
        store.release(f"dlv:{delivery_id}", rt.node)


def _record(rt: Runtime, d: Delivery, sub: Subscription, result: AttemptResult) -> str:
    store = rt.store
    now = datetime.now(UTC)
    d.attempts += 1
    d.last_status_code = result.status_code
    d.last_error = result.error
    d.last_duration_ms = round(result.duration_ms, 1)
    d.last_response = result.response_body
    store.incr("delivery_seconds_total", result.duration_ms / 1000)
    if result.ok:
        store.incr("deliveries_succeeded")
        sub.last_success_at, sub.failing_since = now, None
        store.save_subscription(sub)
        return _finish(rt, d, None, status="succeeded")
    store.incr("delivery_attempts_failed")
    if result.gone:
        sub.enabled, sub.disabled_reason = False, "receiver answered 410 Gone"
        store.save_subscription(sub)
        store.incr("subscriptions_disabled")
        return _finish(rt, d, None, status="dead", error=result.error or "410 Gone")
    if sub.failing_since is None:
        sub.failing_since = now
        store.save_subscription(sub)
    elif now - sub.failing_since > DISABLE_AFTER and (
        sub.last_success_at is None or sub.last_success_at < sub.failing_since
    ):
        sub.enabled, sub.disabled_reason = False, "failing for 5 days without a success"
        store.save_subscription(sub)
        store.incr("subscriptions_disabled")
    schedule = parse_schedule(rt.settings.webhook_retry_schedule)
    delay = next_delay(d.attempts, schedule, retry_after=result.retry_after, rng=_rng)
    if delay is None:
        return _finish(rt, d, None, status="dead", error=result.error)
    d.status = "failed"
    d.next_attempt_at = now + timedelta(seconds=delay)
    d.updated_at = now
    store.save_delivery(d, due_at=d.next_attempt_at.timestamp())
    return f"failed, next attempt in {delay:.1f}s"


def _finish(
    rt: Runtime, d: Delivery, sub: Subscription | None, *, status: str, error: str | None = None
) -> str:
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
