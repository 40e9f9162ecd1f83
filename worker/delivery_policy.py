"""The rules of webhook delivery, as pure functions: no Redis, no HTTP, no clock of their own.

``worker.deliver`` applies them; every rule here is unit-tested with plain values.

1. ``current_secrets``: which secrets sign an attempt (two during a rotation window).
2. ``decide``: what one attempt's outcome means for the delivery (done, retry when, or dead).
3. ``should_disable``: a subscription failing without any success for 5 days is disabled.
4. ``admission_delay``: how far to push a delivery back when its subscription is at its
   in-flight cap or over its rate limit (the worker never sleeps on a busy receiver).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from worker.models import Subscription
from worker.webhooks.http import AttemptResult
from worker.webhooks.retry import next_delay

DISABLE_AFTER = timedelta(days=5)
# At most this many attempts to one subscription at once, across every worker and host: a slow
# receiver holds at most this many worker slots, the others stay free for everyone else.
# When a subscription is at its in-flight cap, look again after about this long.
BUSY_RETRY = 0.5


@dataclass(frozen=True)
class Decision:
    """What follows an attempt: ``retry_in`` seconds for ``failed``, else final."""

    status: Literal["succeeded", "failed", "dead"]
    retry_in: float | None = None
    disable: str | None = None  # a reason: the subscription is disabled at once


def current_secrets(sub: Subscription, at: datetime) -> list[str]:
    """The secrets to sign with: the newest, plus the previous one during a rotation window."""
    if len(sub.secrets) > 1 and sub.previous_secret_until and at < sub.previous_secret_until:
        return sub.secrets[:2]
    return sub.secrets[:1]


def decide(
    result: AttemptResult, attempts_made: int, schedule: list[float], rng: random.Random | None = None
) -> Decision:
    """The delivery's next state after its ``attempts_made``-th attempt gave ``result``.

    2xx succeeds; 410 Gone is final and disables the subscription; anything else (redirects,
    timeouts, other statuses) is retried on the schedule, no earlier than a ``Retry-After``.
    """
    if result.ok:
        return Decision("succeeded")
    if result.gone:
        return Decision("dead", disable="receiver answered 410 Gone")
    delay = next_delay(attempts_made, schedule, retry_after=result.retry_after, rng=rng)
    if delay is None:
        return Decision("dead")
    return Decision("failed", retry_in=delay)


def should_disable(
    failing_since: datetime | None,
    last_success_at: datetime | None,
    now: datetime,
    after: timedelta = DISABLE_AFTER,
) -> bool:
    """True when the subscription has failed for longer than ``after`` with no success since."""
    if failing_since is None:
        return False
    if last_success_at is not None and last_success_at >= failing_since:
        return False
    return now - failing_since > after


def admission_delay(wait: float | None, rng: random.Random | None = None) -> float:
    """Seconds to push a delivery back, from the store's answer (None: at the in-flight cap)."""
    base = BUSY_RETRY if wait is None else max(wait, 0.05)
    # A little jitter, so deliveries held back together do not come back together.
    return base * (1 + (rng or random).uniform(0, 0.2))
