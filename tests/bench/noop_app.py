"""The bare baseline: a Celery app whose task does nothing, with the project's broker settings.

Run as ``celery -A tests.bench.noop_app worker -P prefork -c 2 -Q bench-noop``. The task's only
work is one Redis INCR so the benchmark can tell when the last task has finished.
"""

from __future__ import annotations

import os

import redis
from celery import Celery
from kombu import Queue

from worker.celery_app import app as project_app

BROKER = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
QUEUE = "bench-noop"
COUNTER = "bench:noop:done"

app = Celery("bench-noop", broker=BROKER)
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    result_backend=None,
    task_queues=[Queue(QUEUE, routing_key=QUEUE)],
    task_default_queue=QUEUE,
    task_serializer="json",
    accept_content=["json"],
    broker_transport_options=dict(project_app.conf.broker_transport_options),
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    worker_send_task_events=False,
    task_send_sent_event=False,
    worker_disable_rate_limits=True,
)
_client: redis.Redis | None = None


@app.task(name="bench.noop", acks_late=True, ignore_result=True)
def noop(i: int) -> None:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(BROKER)
    _client.incr(COUNTER)
