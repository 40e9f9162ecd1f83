"""Celery tasks: thin. Each takes ids or a plain dict and calls one function.

The nudges that send them are ``worker.nudger`` (by name, routed by ``celery_app.ROUTES``).
Ingest stays per item (``pipeline.ingest_many``); the deliveries of one message share their Redis
round trips (``deliver.attempt_many``). Both are idempotent, so a batch redelivered after a worker
died only repeats no-ops for the items already done.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from celery import Task
from celery.exceptions import Reject

from worker import deliver, pipeline, poller, publish
from worker.celery_app import app
from worker.heap import give_back
from worker.nudger import BatchingNudger, nudger
from worker.runtime import runtime
from worker.storage import StorageUnavailable

log = logging.getLogger("syndicate.tasks")

ATTEMPT_THREADS = 32  # concurrent attempts per worker process (I/O-bound: Redis and HTTP)
LARGE_PASS = 1.0  # seconds: a publish pass this long hands its freed heap back (worker.heap)
REQUEUE_PAUSE = 0.5  # seconds before an accept that could not be stored goes back to the queue


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


@app.task(base=SyndicateTask, name="syndicate.ingest_batch")
def ingest_batch(article_ids: list[str]) -> list[str]:
    """Ingest several staged articles; their deliveries and one render nudge go out at the end."""
    batch = BatchingNudger()
    try:
        return pipeline.ingest_many(runtime(), article_ids, batch)
    finally:
        batch.flush()


@app.task(base=SyndicateTask, name="syndicate.revisit")
def revisit(article_ids: list[str]) -> int:
    """Apply the life cycle (an embargo lifted, an expiry, a kill) and the configuration to
    stored articles."""
    return pipeline.revisit(runtime(), article_ids, nudger, due=True)


@app.task(base=SyndicateTask, name="syndicate.publish")
def publish_feeds() -> int:
    started = time.monotonic()
    try:
        return len(publish.publish(runtime()))
    finally:
        if time.monotonic() - started >= LARGE_PASS:
            give_back()  # a large pass's peak would otherwise stay in the worker's RSS


_attempt_pool: tuple[int, ThreadPoolExecutor] | None = None
_attempt_lock = threading.Lock()


def _attempts() -> ThreadPoolExecutor:
    """The process's attempt threads (made again in a forked child)."""
    global _attempt_pool
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
    return poller.poll_source(runtime(), source_id, nudger)


@app.task(base=SyndicateTask, name="syndicate.poll_due")
def poll_due() -> int:
    return poller.poll_due(runtime(), nudger)
