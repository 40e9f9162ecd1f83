"""Celery tasks: thin. Each takes ids or a plain dict and calls one function."""

from __future__ import annotations

import logging

from celery import Task

from worker import deliver, pipeline, publish
from worker.celery_app import app
from worker.runtime import runtime

log = logging.getLogger("syndicate.tasks")


class SyndicateTask(Task):  # type: ignore[misc]
    """Shared options: late acks, requeue on worker loss, no results kept."""

    acks_late = True
    reject_on_worker_lost = True
    ignore_result = True


@app.task(base=SyndicateTask, name="syndicate.accept")
def accept(raw: dict[str, object], origin: str = "task") -> str | None:
    """Intake from other systems: a raw article (``RawInput`` fields) in, its id out."""
    rt = runtime()
    article = pipeline.accept_or_dead_letter(rt, raw, origin)
    if article is None:
        return None
    nudger.ingest([article.id])
    return article.id


@app.task(base=SyndicateTask, name="syndicate.ingest")
def ingest(article_id: str) -> str:
    return pipeline.ingest(runtime(), article_id, nudger)


@app.task(base=SyndicateTask, name="syndicate.publish")
def publish_feeds() -> int:
    return len(publish.publish(runtime()))


@app.task(base=SyndicateTask, name="syndicate.deliver")
def deliver_one(delivery_id: str) -> str:
    return deliver.attempt(runtime(), delivery_id)


@app.task(base=SyndicateTask, name="syndicate.poll")
def poll(source_id: str) -> str:
    from worker import poller

    return poller.poll_source(runtime(), source_id, nudger)


@app.task(base=SyndicateTask, name="syndicate.poll_due")
def poll_due() -> int:
    from worker import poller

    return poller.poll_due(runtime(), nudger)


class CeleryNudger:
    """Sends the messages that wake workers. Failures are logged, not raised: the work is in
    Redis already, and the sweeper sends it again."""

    def _send(self, task: Task, args_list: list[tuple[object, ...]], **options: object) -> None:
        try:
            with app.producer_or_acquire() as producer:
                for args in args_list:
                    task.apply_async(args, producer=producer, **options)
        except Exception as exc:  # broker away: the sweeper re-sends from the due times
            log.warning("could not enqueue %s: %s", task.name, exc)

    def ingest(self, article_ids: list[str]) -> None:
        self._send(ingest, [(i,) for i in article_ids])

    def publish(self) -> None:
        try:
            first = runtime().store.claim_flag("publish-nudge", 0.5)
        except Exception:
            first = True
        if first:
            self._send(publish_feeds, [()], countdown=0.3)

    def deliver(self, delivery_ids: list[str]) -> None:
        self._send(deliver_one, [(i,) for i in delivery_ids])

    def poll(self, source_ids: list[str]) -> None:
        self._send(poll, [(i,) for i in source_ids])


nudger = CeleryNudger()

from worker import supervisor  # noqa: E402,F401  (connects the worker signals)
