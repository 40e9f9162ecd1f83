"""The Celery messages that wake workers (``runtime.Nudger``), sent by task name.

The work itself is in Redis already (with its due time); a message only says "look now". So a
failed send is logged, not raised: the sweeper sends the work again. Messages go by name through
``celery_app.ROUTES``, so nothing here imports the tasks (nor the tasks this module).

Nudges travel in batches: one message carries up to ``INGEST_BATCH`` article ids or
``DELIVER_BATCH`` delivery ids, so a burst of 2,000 articles or a fan-out to 500 subscribers costs
tens of messages, not thousands (each message's Celery overhead costs about as much CPU as
the Redis work of a dozen articles).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator

from worker.cadence import BURST_BACKLOG, BURST_PUBLISH_EVERY, PUBLISH_COUNTDOWN
from worker.celery_app import app
from worker.runtime import runtime

log = logging.getLogger("syndicate.nudger")

INGEST_BATCH = 50  # articles per message: normalized already, tens of ms of work, far under the time limit
DELIVER_BATCH = 100  # deliveries per message: their Redis work batched, their posts on the attempt threads
# (concurrent within the message: a batch is not split further to spread it over threads)


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

    def _send(self, task: str, args_list: list[tuple[object, ...]], **options: object) -> None:
        if not args_list:
            return
        try:
            with app.producer_or_acquire() as producer:
                for args in args_list:
                    app.send_task(task, args, producer=producer, **options)
        except Exception as exc:  # broker away: the sweeper re-sends from the due times
            log.warning("could not enqueue %s: %s", task, exc)

    def ingest(self, article_ids: list[str]) -> None:
        self._send("syndicate.ingest_batch", [(c,) for c in chunks(article_ids, INGEST_BATCH)])

    def publish(self) -> None:
        self._publish(burst=False)

    def _publish(self, *, burst: bool) -> None:
        countdown = PUBLISH_COUNTDOWN
        try:
            store = runtime().store
            if burst:
                store.mark_burst(BURST_PUBLISH_EVERY)
            if burst or store.bursting(BURST_BACKLOG):
                countdown = BURST_PUBLISH_EVERY
            first = store.claim_flag("publish-nudge", max(countdown, 1.0))
        except Exception:
            first = True
        if first:
            self._send("syndicate.publish", [()], countdown=countdown)

    def deliver(self, delivery_ids: list[str]) -> None:
        batches = chunks(delivery_ids, DELIVER_BATCH, spread=1)
        self._send("syndicate.deliver_batch", [(c,) for c in batches])

    def poll(self, source_ids: list[str]) -> None:
        self._send("syndicate.poll", [(i,) for i in source_ids])

    def revisit(self, article_ids: list[str]) -> None:
        self._send("syndicate.revisit", [(c,) for c in chunks(article_ids, INGEST_BATCH)])


class BulkNudger(CeleryNudger):
    """A bulk import's (``syndicate ingest``, which commits without the ingest queue, so no
    backlog shows the burst): renders at most once per ``BURST_PUBLISH_EVERY`` while it lasts."""

    def publish(self) -> None:
        self._publish(burst=True)


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
