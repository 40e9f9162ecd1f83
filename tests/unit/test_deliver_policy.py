"""The rules of delivery (worker.delivery_policy), over plain values: no Redis, no HTTP."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from worker.delivery_policy import (
    BUSY_RETRY,
    DISABLE_AFTER,
    admission_delay,
    current_secrets,
    decide,
    should_disable,
)
from worker.models import Subscription
from worker.webhooks.http import AttemptResult

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
SCHEDULE = [5.0, 300.0, 1800.0]


def result(
    status: int | None, *, error: str | None = None, retry_after: float | None = None
) -> AttemptResult:
    ok = status is not None and 200 <= status < 300
    return AttemptResult(ok, status, 12.0, "", error, retry_after, status == 410)


# -- 5 days failing without a success ------------------------------------------------------------
@pytest.mark.parametrize(
    ("failing_for", "last_success", "disable"),
    [
        (None, None, False),
        (timedelta(days=4, hours=23), None, False),
        (DISABLE_AFTER, None, False),  # exactly 5 days: not yet
        (DISABLE_AFTER + timedelta(seconds=1), None, True),
        (timedelta(days=30), None, True),
        (timedelta(days=6), timedelta(days=10), True),  # the last success was before the failures began
        (timedelta(days=6), timedelta(days=6), False),  # a success at the very start of the streak
        (timedelta(days=6), timedelta(days=1), False),  # a success since: the streak is broken
    ],
    ids=[
        "never-failed",
        "just-under-5-days",
        "exactly-5-days",
        "just-over-5-days",
        "a-month",
        "old-success",
        "success-at-start",
        "recent-success",
    ],
)
def test_should_disable(failing_for: timedelta | None, last_success: timedelta | None, disable: bool) -> None:
    failing_since = None if failing_for is None else T0 - failing_for
    last_success_at = None if last_success is None else T0 - last_success
    assert should_disable(failing_since, last_success_at, T0) is disable


def test_should_disable_takes_its_threshold() -> None:
    assert should_disable(T0 - timedelta(hours=2), None, T0, after=timedelta(hours=1))
    assert not should_disable(T0 - timedelta(minutes=30), None, T0, after=timedelta(hours=1))


# -- what an attempt's outcome means ---------------------------------------------------------------
@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_2xx_succeeds(status: int) -> None:
    d = decide(result(status), 1, SCHEDULE)
    assert (d.status, d.retry_in, d.disable) == ("succeeded", None, None)


def test_410_is_final_and_disables_even_with_retries_left() -> None:
    d = decide(result(410, error="http status 410"), 1, SCHEDULE)
    assert d.status == "dead" and d.retry_in is None
    assert d.disable is not None and "410" in d.disable


@pytest.mark.parametrize(
    "outcome",
    [
        result(500, error="http status 500"),
        result(302, error="redirect to http://elsewhere/ not followed"),
        result(404, error="http status 404"),
        result(None, error="timeout after 15.0s"),
        result(None, error="connection refused"),
        result(None, error="forbidden target: loopback"),
    ],
    ids=["500", "redirect", "404", "timeout", "refused", "forbidden-peer"],
)
def test_failures_retry_on_the_schedule_with_jitter(outcome: AttemptResult) -> None:
    rng = random.Random(7)
    for made, base in enumerate(SCHEDULE, start=1):
        d = decide(outcome, made, SCHEDULE, rng)
        assert d.status == "failed" and d.disable is None
        assert d.retry_in is not None and base * 0.8 <= d.retry_in <= base * 1.2


def test_after_the_last_attempt_the_delivery_is_dead() -> None:
    d = decide(result(500, error="http status 500"), len(SCHEDULE) + 1, SCHEDULE)
    assert (d.status, d.retry_in, d.disable) == ("dead", None, None)


def test_no_schedule_means_one_attempt() -> None:
    assert decide(result(503), 1, []).status == "dead"


def test_retry_after_is_a_floor() -> None:
    d = decide(result(429, retry_after=120.0), 1, SCHEDULE, random.Random(1))
    assert d.status == "failed" and d.retry_in is not None and d.retry_in >= 120.0
    # a Retry-After shorter than the schedule does not make the retry earlier
    d = decide(result(503, retry_after=1.0), 2, SCHEDULE, random.Random(1))
    assert d.retry_in is not None and d.retry_in >= 300.0 * 0.8


def test_retry_after_is_capped() -> None:
    d = decide(result(429, retry_after=10 * 86400.0), 1, SCHEDULE)
    assert d.retry_in is not None and d.retry_in <= 86400.0


def test_retry_after_does_not_extend_the_schedule() -> None:
    d = decide(result(429, retry_after=60.0), len(SCHEDULE) + 1, SCHEDULE)
    assert d.status == "dead"


# -- which secrets sign --------------------------------------------------------------------------
def sub(secrets: list[str], until: datetime | None) -> Subscription:
    return Subscription(
        id="sub_1",
        url="https://example.org/hook",
        audience="global",
        created_at=T0,
        secrets=secrets,
        previous_secret_until=until,
    )


def test_one_secret_signs_outside_a_rotation() -> None:
    assert current_secrets(sub(["whsec_new"], None), T0) == ["whsec_new"]


def test_both_secrets_sign_during_the_rotation_window() -> None:
    s = sub(["whsec_new", "whsec_old"], T0 + timedelta(hours=24))
    assert current_secrets(s, T0) == ["whsec_new", "whsec_old"]
    assert current_secrets(s, T0 + timedelta(hours=23, minutes=59)) == ["whsec_new", "whsec_old"]


def test_only_the_new_secret_signs_after_the_window() -> None:
    s = sub(["whsec_new", "whsec_old"], T0 + timedelta(hours=24))
    assert current_secrets(s, T0 + timedelta(hours=24)) == ["whsec_new"]


# -- held back by the in-flight cap or the rate limit --------------------------------------------
def test_admission_delay() -> None:
    rng = random.Random(3)
    for _ in range(100):
        busy = admission_delay(None, rng)
        assert BUSY_RETRY <= busy <= BUSY_RETRY * 1.2
        limited = admission_delay(0.7, rng)
        assert 0.7 <= limited <= 0.7 * 1.2
    assert admission_delay(0.0, rng) > 0  # never "now": that would spin
