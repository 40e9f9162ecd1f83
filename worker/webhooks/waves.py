"""A batch's attempts, sent concurrently and handed back in waves as they end.

A batch may hold a slow receiver's deliveries beside fast ones; waiting for the whole batch
before recording anything would hold the fast ones' outcomes (and their in-flight slots) until
the slowest post times out. So results come back in waves: each wave is what has ended since
the last one, gathered for a moment (``WAVE_LINGER``) so that 500 posts to one nginx make a few
writes, not 500.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from concurrent.futures import Executor
from datetime import UTC, datetime

import requests

from worker.delivery_policy import current_secrets
from worker.models import Delivery, Subscription
from worker.net.ssrf import ForbiddenTarget, check_static
from worker.settings import PRIVATE_TARGETS_HINT
from worker.webhooks.http import AttemptResult, post
from worker.webhooks.signing import headers

SEND_RUNNERS = 16  # attempts of one batch under way at once (on the process's attempt threads)
WAVE_LINGER = 0.1  # seconds a wave waits for more attempts to end once one has (a few writes per batch)

Job = tuple[Delivery, Subscription, bytes]
Result = AttemptResult | str | None  # a string names a forbidden target; None: not started in time
Wave = list[tuple[int, Result]]  # (index of the job, its result)


def send_waves(
    jobs: list[Job],
    pool: Executor | None,
    *,
    session: requests.Session,
    timeout: float,
    allow_private: bool,
    start_by: float,
) -> Iterator[Wave]:
    """Every job's result exactly once, in waves of those that ended about together."""

    def send(job: Job) -> Result:
        if time.monotonic() > start_by:
            return None  # the lease is too short now for a whole attempt: leave it to the next one
        d, sub, body = job
        try:  # no DNS here: the connection resolves once, checks, and connects to what it checked
            check_static(sub.url, allow_private=allow_private)
        except ForbiddenTarget as exc:
            return f"forbidden target: {exc} (the workers refuse it: {PRIVATE_TARGETS_HINT})"
        hdrs = headers(current_secrets(sub, datetime.now(UTC)), d.webhook_id, int(time.time()), body)
        return post(session, sub.url, body, hdrs, timeout=timeout, allow_private=allow_private)

    if not jobs:
        return
    if pool is None or len(jobs) == 1:
        yield [(i, send(job)) for i, job in enumerate(jobs)]
        return
    # A few runners take the jobs in turn (not one future per job: those cost more than a post).
    ended: queue.SimpleQueue[tuple[int, Result, BaseException | None]] = queue.SimpleQueue()
    order = iter(range(len(jobs)))  # next() on it is atomic: each job is taken by one runner

    def run() -> None:
        for i in order:
            try:
                ended.put((i, send(jobs[i]), None))
            except BaseException as exc:  # handed to the batch's thread, which raises it
                ended.put((i, None, exc))
                return

    for _ in range(min(len(jobs), SEND_RUNNERS)):
        pool.submit(run)
    left = len(jobs)
    while left:
        wave: Wave = []
        item = ended.get()  # posts have their own timeouts: this wait is bounded by them
        linger_until = time.monotonic() + WAVE_LINGER
        while True:
            i, result, exc = item
            if exc is not None:
                raise exc
            wave.append((i, result))
            left -= 1
            remaining = linger_until - time.monotonic()
            if not left or remaining <= 0:
                break
            try:
                item = ended.get(timeout=remaining)
            except queue.Empty:
                break
        yield wave
