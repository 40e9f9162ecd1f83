"""A thread in every worker's main process: heartbeat, and the sweeper.

The heartbeat (``/readyz``, ``syndicate status``) says the worker lives. The sweeper sends again
any work whose due time has passed: retries that have come due and work that a dead worker held.
A Redis lock lets one sweeper act at a time across all hosts. ``connect`` hooks it to the worker's
signals; the worker role (``syndicate worker``) calls it before the worker starts.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery.signals import worker_init, worker_ready, worker_shutdown

from worker import sweeper
from worker.nudger import nudger
from worker.runtime import runtime, vouch_for_pool

log = logging.getLogger("syndicate.supervisor")
INTERVAL = 1.0
_stop = threading.Event()


def run(queues: list[str]) -> None:
    rendered_for = ""  # the config digest every feed was last marked for rendering under
    while not _stop.is_set():
        try:
            rt = runtime()
            rt.store.heartbeat(rt.node, {"queues": queues})
            # At start, and when this process's configuration changed (config_reload, including a
            # roll-back to an earlier one): render everything again.
            if rt.config.digest != rendered_for:
                sweeper.mark_all_feeds_dirty(rt)
                rendered_for = rt.config.digest
            if rt.store.acquire("sweeper", rt.node, ttl=5 * INTERVAL):
                sweeper.sweep(rt, nudger)
        except Exception as exc:  # Redis away: keep trying, the worker reconnects by itself
            log.warning("supervisor: %s", exc)
        _stop.wait(INTERVAL)


def connect() -> None:
    """Run the heartbeat and the sweeper in this process's Celery worker (idempotent)."""
    worker_init.connect(_vouch, weak=False, dispatch_uid="syndicate.vouch")
    worker_ready.connect(_start, weak=False, dispatch_uid="syndicate.start")
    worker_shutdown.connect(_shutdown, weak=False, dispatch_uid="syndicate.shutdown")


def _vouch(**_: Any) -> None:
    """Before the pool forks: its processes' locks name this process's heartbeat, and that
    heartbeat exists before any of them can take a lock (the supervisor keeps it beating from
    ``worker_ready`` until the pool has finished its last task)."""
    node = vouch_for_pool()
    try:
        runtime().store.heartbeat(node, {"queues": [], "starting": True})
    except Exception as exc:  # Redis away: the supervisor's first beat will do
        log.warning("supervisor: first heartbeat: %s", exc)


def _start(sender: Any = None, **_: Any) -> None:
    queues = sorted(q.name for q in sender.app.amqp.queues.consume_from.values()) if sender else []
    _stop.clear()
    threading.Thread(target=run, args=(queues,), name="syndicate-supervisor", daemon=True).start()


def _shutdown(**_: Any) -> None:
    _stop.set()
