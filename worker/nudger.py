"""The Celery messages that wake workers (``runtime.Nudger``), sent by task name.

The work itself is in Redis already (with its due time); a message only says "look now". So a
failed send is logged, not raised: the sweeper sends the work again. Messages go by name through
``celery_app.ROUTES``, so nothing here imports the tasks (nor the tasks this module).

Nudges travel in batches: one message carries up to ``INGEST_BATCH`` article ids or
``DELIVER_BATCH`` delivery ids, so a burst of 2,000 articles or a fan-out to 500 subscribers costs
tens of messages, not thousands.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator

from worker.celery_app import app
from worker.runtime import runtime

log = logging.getLogger("syndicate.nudger")

INGEST_BATCH = 20  # articles per message: about 0.2 s of work, well under the time limit
DELIVER_BATCH = 100  # deliveries per message: their Redis work batched, their posts on the attempt threads
PUBLISH_COUNTDOWN = 0.3  # quiet times: render this soon after an article lands
# During a burst (articles still waiting to be ingested) render at most once per this many
# seconds, so rendering does not take the CPU the ingest needs: feeds lag by at most this much.
BURST_PUBLISH_EVERY = 3.0
BURST_BACKLOG = 20  # a burst: at least this many staged articles not yet ingested


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
        countdown = PUBLISH_COUNTDOWN
        try:
            store = runtime().store
            if store.due_count("ingest") >= BURST_BACKLOG:
                countdown = BURST_PUBLISH_EVERY
            first = store.claim_flag("publish-nudge", max(countdown, 1.0))
        except Exception:
            first = True
        if first:
            self._send("syndicate.publish", [()], countdown=countdown)

    def deliver(self, delivery_ids: list[str]) -> None:
        batches = chunks(delivery_ids, DELIVER_BATCH, spread=4)
        self._send("syndicate.deliver_batch", [(c,) for c in batches])

    def poll(self, source_ids: list[str]) -> None:
        self._send("syndicate.poll", [(i,) for i in source_ids])

    def revisit(self, article_ids: list[str]) -> None:
        self._send("syndicate.revisit", [(c,) for c in chunks(article_ids, INGEST_BATCH)])


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
