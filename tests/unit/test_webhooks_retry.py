"""The retry schedule and the delay before each retry."""

from __future__ import annotations

import random

import pytest

from worker.webhooks.retry import DEFAULT_RETRY_SCHEDULE, ScheduleError, next_delay, parse_schedule


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5,300,1800", [5.0, 300.0, 1800.0]),
        (" 1 , 1,1 ,1 ", [1.0, 1.0, 1.0, 1.0]),
        ("0.5", [0.5]),
        ("0", [0.0]),
        ("", []),
        (DEFAULT_RETRY_SCHEDULE, [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0]),
    ],
    ids=["three", "spaces", "fraction", "zero", "empty-no-retries", "default"],
)
def test_parse_schedule(value: str, expected: list[float]) -> None:
    assert parse_schedule(value) == expected


def test_parse_schedule_default_argument() -> None:
    assert parse_schedule() == parse_schedule(DEFAULT_RETRY_SCHEDULE)


@pytest.mark.parametrize(
    ("value", "item"),
    [
        ("5,abc,30", "item 2 'abc'"),
        ("5,,30", "item 2 ''"),
        ("5,30,", "item 3 ''"),
        ("-1", "item 1 '-1'"),
        ("5,inf", "item 2 'inf'"),
        ("nan", "item 1 'nan'"),
        ("5;300", "item 1 '5;300'"),
    ],
    ids=["word", "empty-item", "trailing-comma", "negative", "infinite", "nan", "semicolon"],
)
def test_parse_schedule_names_the_bad_item(value: str, item: str) -> None:
    with pytest.raises(ScheduleError) as info:
        parse_schedule(value)
    assert item in str(info.value)
    assert isinstance(info.value, ValueError)


def test_one_one_one_one_means_five_attempts() -> None:
    schedule = parse_schedule("1,1,1,1")
    delays = [next_delay(made, schedule, jitter=0) for made in range(1, 6)]
    assert delays == [1.0, 1.0, 1.0, 1.0, None]


def test_each_retry_uses_its_own_schedule_slot() -> None:
    schedule = [5.0, 300.0, 1800.0]
    delays = [next_delay(made, schedule, jitter=0) for made in (1, 2, 3, 4, 10)]
    assert delays == [5.0, 300.0, 1800.0, None, None]


def test_before_the_first_attempt_send_now() -> None:
    assert next_delay(0, [5.0]) == 0.0
    assert next_delay(0, []) == 0.0
    assert next_delay(1, []) is None


def test_jitter_stays_within_twenty_percent_and_spreads() -> None:
    rng = random.Random(1234)
    draws = [next_delay(2, [5.0, 100.0], rng=rng) for _ in range(5000)]
    assert all(d is not None and 80.0 <= d <= 120.0 for d in draws)
    values = [d for d in draws if d is not None]
    assert min(values) < 82 and max(values) > 118  # the whole band is used
    assert 98 < sum(values) / len(values) < 102  # and it is centred


def test_seeded_rng_is_reproducible() -> None:
    first = [next_delay(1, [60.0], rng=random.Random(7)) for _ in range(3)]
    assert first == [next_delay(1, [60.0], rng=random.Random(7)) for _ in range(3)]


def test_retry_after_is_a_floor() -> None:
    rng = random.Random(0)
    assert next_delay(1, [5.0], retry_after=7, rng=rng) == 7.0
    # a shorter Retry-After does not shorten the schedule
    for _ in range(100):
        delay = next_delay(1, [300.0], retry_after=7, rng=rng)
        assert delay is not None and 240.0 <= delay <= 360.0


def test_retry_after_is_capped() -> None:
    assert next_delay(1, [5.0], retry_after=10**9, jitter=0) == 86400
    assert next_delay(1, [5.0], retry_after=10**9, jitter=0, retry_after_cap=600) == 600
    assert next_delay(1, [5.0], retry_after=-30, jitter=0) == 5.0


def test_retry_after_does_not_revive_exhausted_attempts() -> None:
    assert next_delay(2, [5.0], retry_after=7) is None


@pytest.mark.parametrize(
    "kwargs",
    [{"attempts_made": -1}, {"attempts_made": 1, "jitter": 1.0}, {"attempts_made": 1, "jitter": -0.1}],
    ids=["negative-attempts", "jitter-one", "negative-jitter"],
)
def test_bad_arguments_raise(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        next_delay(schedule=[5.0], **kwargs)  # type: ignore[arg-type]
