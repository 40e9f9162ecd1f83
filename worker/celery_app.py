"""The Celery application: settings that lose nothing, and one queue per kind of work.

- ``task_acks_late`` + ``task_reject_on_worker_lost``: a message is acknowledged only after its task
  ran, and goes back to the queue if the worker process dies.
- prefetch 1: a worker holds at most one message per process it cannot start yet.
- ``visibility_timeout`` (15 min) is longer than any task (time limit 2 min) and than any countdown
  we use (under a second): long retry delays are due times in Redis (``worker.storage.work``), and
  work held by a worker killed with SIGKILL is sent again by the sweeper within seconds
  (``worker.supervisor``), not after the visibility timeout.
- Queues ``ingest``, ``publish``, ``webhooks``, ``poll``: a slow receiver never starves ingest,
  and polls of upstream feeds run on their own queue (and worker), so an upstream that answers
  slowly never holds ingest or publish. ``ROUTES`` names every task that is sent, and its queue.

Importing this module does no work: the configuration (the broker from ``Settings``, and the kombu
fix below) is made when the app first reads it, in whichever process uses the app.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from kombu import Exchange, Queue
from kombu.transport import redis as kombu_redis

from worker.settings import Settings
from worker.storage.connect import RedisTarget, broker

log = logging.getLogger("syndicate.celery")
QUEUES = ("ingest", "publish", "webhooks", "poll")
VISIBILITY_TIMEOUT = 900

# Every task that is sent, and its queue: the nudges (worker.nudger), the beat's poll_due, and
# syndicate.accept, which other systems send.
ROUTES = {
    "syndicate.accept": "ingest",
    "syndicate.ingest_batch": "ingest",
    "syndicate.revisit": "ingest",
    "syndicate.poll_due": "ingest",
    "syndicate.publish": "publish",
    "syndicate.deliver_batch": "webhooks",
    "syndicate.poll": "poll",
}


def configuration(settings: Settings | None = None) -> dict[str, Any]:
    """The app's whole configuration, for ``settings`` (default: from the environment)."""
    settings = settings or Settings.from_env()
    broker_url, broker_options = broker(RedisTarget.from_settings(settings))
    _tolerate_detached_transport()
    return dict(
        broker_url=broker_url,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        result_backend=None,
        task_queues=[Queue(q, Exchange(q, type="direct"), routing_key=q) for q in QUEUES],
        task_default_queue="ingest",
        task_routes={name: {"queue": queue} for name, queue in ROUTES.items()},
        task_time_limit=120,
        task_soft_time_limit=100,
        task_serializer="json",
        accept_content=["json"],
        broker_transport_options={
            "visibility_timeout": VISIBILITY_TIMEOUT,
            "socket_timeout": 5,
            "socket_connect_timeout": 3,
            "retry_on_timeout": True,
            "health_check_interval": 10,
            **broker_options,  # with Sentinel: master_name and sentinel_kwargs
        },
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        broker_pool_limit=20,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        worker_soft_shutdown_timeout=20.0,
        worker_enable_soft_shutdown_on_idle=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
        worker_disable_rate_limits=True,
        beat_schedule={
            "poll-due-sources": {"task": "syndicate.poll_due", "schedule": 5.0},
        },
        timezone="UTC",
    )


def _tolerate_detached_transport() -> None:
    """Keep the worker alive when Redis goes away (kombu 5.7, seen in tests/integration/test_faults.py).

    After a lost broker connection kombu's Redis channel is detached from its connection, and two
    calls then fail with ``AttributeError`` (``'NoneType' object has no attribute 'hostname'`` /
    ``'client'``): putting the unacknowledged messages back while the channel closes, and acking
    a task that finished after the reconnect on the channel it came from. Celery calls both
    unrecoverable, and the worker hangs for good instead of reconnecting. Skipping them loses
    nothing: the messages stay in kombu's unacked set (redelivered after the visibility timeout;
    tasks are idempotent), and every piece of work has a due time in Redis that the sweeper
    re-sends. Only a detached channel is excused; any other AttributeError still raises.
    Upstream reports of workers that stop after a Redis reconnect: celery/celery#10205 and
    celery/celery#8030; remove this once kombu handles a detached channel itself.
    """
    qos = kombu_redis.QoS
    if getattr(qos, "_syndicate_tolerant", False):
        return

    def tolerant(name: str) -> None:
        original = getattr(qos, name)

        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return original(self, *args, **kwargs)
            except AttributeError as exc:
                transport = getattr(self.channel, "connection", None)
                if transport is not None and getattr(transport, "client", None) is not None:
                    raise
                log.warning("broker channel detached: %s skipped, left for redelivery (%s)", name, exc)
                if name == "restore_unacked":
                    self._delivered.clear()
                return None

        setattr(qos, name, call)

    for name in ("restore_unacked", "ack", "reject"):
        tolerant(name)
    qos._syndicate_tolerant = True  # type: ignore[attr-defined]


app = Celery("syndicate", include=["worker.tasks"])
app.add_defaults(configuration)  # a promise: evaluated when the configuration is first read
