"""Celery tasks: thin. Each takes ids or a plain dict and calls one function.

Nudges travel in batches: one message carries up to ``INGEST_BATCH`` article ids or
``DELIVER_BATCH`` delivery ids, so a burst of 2,000 articles or a fan-out to 500 subscribers costs
tens of messages, not thousands. Ingest stays per item (``pipeline.ingest``); the deliveries of one
message share their Redis round trips (``deliver.attempt_many``). Both are idempotent, so a batch
redelivered after a worker died only repeats no-ops for the items already done.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from celery import Task
from celery.exceptions import Reject

from worker import deliver, pipeline, publish
from worker.celery_app import app
from worker.runtime import runtime
from worker.storage import StorageUnavailable

log = logging.getLogger("syndicate.tasks")

INGEST_BATCH = 20  # articles per message: about 0.2 s of work, well under the time limit
DELIVER_BATCH = 100  # deliveries per message: their Redis work batched, their posts on the attempt threads
ATTEMPT_THREADS = 32  # concurrent attempts per worker process (I/O-bound: Redis and HTTP)
PUBLISH_COUNTDOWN = 0.3  # quiet times: render this soon after an article lands
# During a burst (articles still waiting to be ingested) render at most once per this many
# seconds, so rendering does not take the CPU the ingest needs: feeds lag by at most this much.
BURST_PUBLISH_EVERY = 3.0
REQUEUE_PAUSE = 0.5  # seconds before an accept that could not be stored goes back to the queue
BURST_BACKLOG = 20  # a burst: at least this many staged articles not yet ingested


class SyndicateTask(Task):  # type: ignore[misc]
    """Shared options: late acks, requeue on worker loss, no results kept."""

    acks_late = True
    reject_on_worker_lost = True
    ignore_result = True


@app.task(base=SyndicateTask, name="syndicate.accept")
def accept(raw: dict[str, object], origin: str = "task") -> str | None:
    """Intake from other systems: a raw article (``RawInput`` fields) in, its id out."""
    rt = runtime()
    try:
        article = pipeline.accept_or_dead_letter(rt, raw, origin)
    except StorageUnavailable as exc:
        # Not stored (or not confirmed by SYNDICATE_ACK_REPLICAS replicas): the message goes back
        # to the queue rather than being acknowledged; staging the same id again is harmless.
        log.warning("accept: not stored, message requeued: %s", exc)
        time.sleep(REQUEUE_PAUSE)
        raise Reject(str(exc), requeue=True) from None
    if article is None:
        return None
    nudger.ingest([article.id])
    return article.id


@app.task(base=SyndicateTask, name="syndicate.ingest")
def ingest(article_id: str) -> str:
    return pipeline.ingest(runtime(), article_id, nudger)


@app.task(base=SyndicateTask, name="syndicate.ingest_batch")
def ingest_batch(article_ids: list[str]) -> list[str]:
    """Ingest several staged articles; their deliveries and one render nudge go out at the end."""
    batch = BatchingNudger()
    try:
        return pipeline.ingest_many(runtime(), article_ids, batch)
    finally:
        batch.flush()


@app.task(base=SyndicateTask, name="syndicate.publish")
def publish_feeds() -> int:
    return len(publish.publish(runtime()))


@app.task(base=SyndicateTask, name="syndicate.deliver")
def deliver_one(delivery_id: str) -> str:
    return deliver.attempt(runtime(), delivery_id)


_attempt_pool: tuple[int, ThreadPoolExecutor] | None = None
_attempt_lock = threading.Lock()


def _attempts() -> ThreadPoolExecutor:
    """The process's attempt threads (made again in a forked child)."""
    global _attempt_pool
    import os

    with _attempt_lock:
        if _attempt_pool is None or _attempt_pool[0] != os.getpid():
            pool = ThreadPoolExecutor(ATTEMPT_THREADS, thread_name_prefix="syndicate-attempt")
            _attempt_pool = (os.getpid(), pool)
        return _attempt_pool[1]


@app.task(base=SyndicateTask, name="syndicate.deliver_batch")
def deliver_batch(delivery_ids: list[str]) -> list[str]:
    """Attempt several deliveries at once: their Redis work batched, their posts concurrent."""
    try:
        return deliver.attempt_many(runtime(), delivery_ids, pool=_attempts())
    except Exception as exc:  # Redis away, say: the due times bring the batch back
        log.exception("delivery batch failed unexpectedly")
        return [f"error: {exc}"] * len(delivery_ids)


@app.task(base=SyndicateTask, name="syndicate.poll")
def poll(source_id: str) -> str:
    from worker import poller

    return poller.poll_source(runtime(), source_id, nudger)


@app.task(base=SyndicateTask, name="syndicate.poll_due")
def poll_due() -> int:
    from worker import poller

    return poller.poll_due(runtime(), nudger)


def chunks(ids: list[str], size: int, spread: int = 2) -> Iterator[list[str]]:
    """``ids`` in chunks of at most ``size``, and at least ``spread`` chunks when there are
    enough ids, so that every worker process gets a share of a small burst."""
    if not ids:
        return
    n = max(1, min(size, math.ceil(len(ids) / spread)))
    for i in range(0, len(ids), n):
        yield ids[i : i + n]


class CeleryNudger:
    """Sends the messages that wake workers. Failures are logged, not raised: the work is in
    Redis already, and the sweeper sends it again."""

    def _send(self, task: Task, args_list: list[tuple[object, ...]], **options: object) -> None:
        if not args_list:
            return
        try:
            with app.producer_or_acquire() as producer:
                for args in args_list:
                    task.apply_async(args, producer=producer, **options)
        except Exception as exc:  # broker away: the sweeper re-sends from the due times
            log.warning("could not enqueue %s: %s", task.name, exc)

    def ingest(self, article_ids: list[str]) -> None:
        self._send(ingest_batch, [(c,) for c in chunks(article_ids, INGEST_BATCH)], queue="ingest")

    def publish(self) -> None:
        countdown = PUBLISH_COUNTDOWN
        try:
            store = runtime().store
            if store.due_count("ingest") >= BURST_BACKLOG:
                countdown = BURST_PUBLISH_EVERY
            first = store.claim_flag("publish-nudge", max(countdown, 1.0))
        except Exception:
            first = True
        if first:
            self._send(publish_feeds, [()], countdown=countdown)

    def deliver(self, delivery_ids: list[str]) -> None:
        batches = chunks(delivery_ids, DELIVER_BATCH, spread=4)
        self._send(deliver_batch, [(c,) for c in batches], queue="webhooks")

    def poll(self, source_ids: list[str]) -> None:
        self._send(poll, [(i,) for i in source_ids], queue="poll")


class BatchingNudger(CeleryNudger):
    """Collects the nudges of one batch task and sends them once, at ``flush``."""

    def __init__(self) -> None:
        self._deliveries: list[str] = []
        self._publish = False

    def publish(self) -> None:
        self._publish = True

    def deliver(self, delivery_ids: list[str]) -> None:
        self._deliveries.extend(delivery_ids)

    def flush(self) -> None:
        if self._deliveries:
            nudger.deliver(self._deliveries)
            self._deliveries = []
        if self._publish:
            nudger.publish()
            self._publish = False


nudger = CeleryNudger()

from worker import supervisor  # noqa: E402,F401  (connects the worker signals)
