"""A batch's attempts come back in waves: every job exactly once, whatever the pool does.

The targets here are refused before any connection (an address in 10.0.0.0/8 without
``allow_private``), or the batch has no time left to start an attempt: no packet is sent.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import requests

from worker.models import Delivery, Subscription
from worker.webhooks.signing import InvalidSecret
from worker.webhooks.waves import Job, send_waves

AT = datetime(2026, 12, 1, tzinfo=UTC)


def job(n: int) -> Job:
    sub = Subscription(
        id=f"s{n % 3}", url="http://10.0.0.1/hook", audience="global", created_at=AT,
        secrets=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )  # fmt: skip
    d = Delivery(
        id=f"d{n}", event_id=f"e{n}", webhook_id=f"msg_{n}", subscription_id=sub.id,
        type="article.published", audience="global", article_id=f"a{n}", payload_key=f"p{n}",
        created_at=AT, updated_at=AT,
    )  # fmt: skip
    return d, sub, b"{}"


@pytest.mark.parametrize("count", [1, 2, 17, 100])
@pytest.mark.parametrize("with_pool", [False, True])
def test_every_job_comes_back_once_with_its_own_result(count: int, with_pool: bool) -> None:
    jobs = [job(n) for n in range(count)]
    with ThreadPoolExecutor(8) as pool, requests.Session() as session:
        waves = list(
            send_waves(jobs, pool if with_pool else None, session=session, timeout=1,
                       allow_private=False, start_by=time.monotonic() + 60)
        )  # fmt: skip
    seen = [i for wave in waves for i, _ in wave]
    assert sorted(seen) == list(range(count))
    assert all(waves), "no empty wave"
    for wave in waves:
        for _, result in wave:
            assert isinstance(result, str) and result.startswith("forbidden target:"), result


def test_a_batch_past_its_start_deadline_sends_nothing() -> None:
    jobs = [job(n) for n in range(20)]
    with ThreadPoolExecutor(4) as pool, requests.Session() as session:
        waves = list(
            send_waves(jobs, pool, session=session, timeout=1, allow_private=False,
                       start_by=time.monotonic() - 1)
        )  # fmt: skip
    results = dict(r for wave in waves for r in wave)
    assert results == dict.fromkeys(range(20))


def test_an_error_in_a_runner_is_raised_in_the_batch() -> None:
    d, sub, body = job(0)
    # A host name passes the static check (no DNS there); signing fails before any connection.
    broken = (d, sub.model_copy(update={"secrets": [], "url": "https://example.com/h"}), body)
    with ThreadPoolExecutor(4) as pool, requests.Session() as session:
        waves = send_waves([job(1), broken, job(2)], pool, session=session, timeout=1,
                           allow_private=False, start_by=time.monotonic() + 60)  # fmt: skip
        with pytest.raises(InvalidSecret, match="at least one webhook secret"):
            list(waves)
