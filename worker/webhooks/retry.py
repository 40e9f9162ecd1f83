"""When to try a webhook delivery again: the retry schedule and the delay before each retry.

The schedule lists the seconds before each retry; the first attempt is not in it, so the
schedule ``1,1,1,1`` means five attempts in all. Each delay gets +-20 % jitter, so that
receivers that come back up are not hit by every queued retry at once, and a receiver's
``Retry-After`` is honoured as a floor (capped, so one answer cannot park a delivery forever).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

DEFAULT_RETRY_SCHEDULE = "5,300,1800,7200,18000,36000,36000"
_RNG = random.Random()


class ScheduleError(ValueError):
    """A retry schedule that is not comma-separated non-negative seconds."""


def parse_schedule(value: str = DEFAULT_RETRY_SCHEDULE) -> list[float]:
    """``"5,300,1800"`` -> ``[5.0, 300.0, 1800.0]``; an empty value means no retries."""
    if not value.strip():
        return []
    delays = []
    for index, item in enumerate(value.split(","), start=1):
        text = item.strip()
        try:
            seconds = float(text)
        except ValueError:
            seconds = math.nan
        if not math.isfinite(seconds) or seconds < 0:
            raise ScheduleError(
                f"retry schedule item {index} {text!r} is not a non-negative number of seconds "
                f"(expected comma-separated seconds, e.g. '5,300,1800')"
            )
        delays.append(seconds)
    return delays


def next_delay(
    attempts_made: int,
    schedule: Sequence[float],
    *,
    retry_after: float | None = None,
    jitter: float = 0.2,
    rng: random.Random | None = None,
    retry_after_cap: float = 86400,
) -> float | None:
    """Seconds until the next attempt, or None when every attempt has been made.

    ``attempts_made`` counts the attempts already made (0 before the first: send now).
    """
    if attempts_made < 0:
        raise ValueError(f"attempts_made must be 0 or more, got {attempts_made}")
    if not 0 <= jitter < 1:
        raise ValueError(f"jitter must be in [0, 1), got {jitter}")
    if attempts_made == 0:
        return 0.0
    if attempts_made > len(schedule):
        return None
    base = float(schedule[attempts_made - 1])
    delay = base * (1 + (rng or _RNG).uniform(-jitter, jitter))
    if retry_after is not None and math.isfinite(retry_after):
        delay = max(delay, min(max(retry_after, 0.0), retry_after_cap))
    return delay
