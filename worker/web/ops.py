"""Health, readiness and Prometheus metrics (read from Redis, so they cover every process; the
feed cache figures are this server process's own)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from worker.celery_app import QUEUES
from worker.runtime import Runtime
from worker.storage import StorageUnavailable
from worker.web.common import rt_of

router = APIRouter(tags=["operations"])
HEARTBEAT_MAX_AGE = 60.0

COUNTERS = {
    "articles_ingested": "Article versions committed.",
    "articles_unchanged": "Re-ingests that changed nothing.",
    "articles_rejected": "Inputs rejected into the dead-letter list.",
    "events_created": "Webhook events created.",
    "feed_renders": "Feed renders (all formats of one feed).",
    "feed_render_seconds": "Seconds spent rendering feeds.",
    "feed_render_failures": "Feed renders that failed (the feed backs off and is tried again).",
    "feed_render_overruns": "Feed renders that overran their deadline (the feed backs off).",
    "deliveries_succeeded": "Webhook deliveries that succeeded.",
    "delivery_attempts_failed": "Webhook attempts that failed.",
    "deliveries_dead": "Webhook deliveries given up after the last attempt.",
    "delivery_seconds_total": "Seconds spent waiting for webhook receivers.",
    "subscriptions_disabled": "Subscriptions disabled (410 Gone or failing for days).",
    "websub_pings": "WebSub publish pings sent.",
    "articles_retired": "Articles retired (SYNDICATE_RETENTION_DAYS): record dropped, tombstone kept.",
    "archive_pages_retired": "Archive pages retired (no longer served).",
}
# Counters exposed under another name than their stat: the counter of disablings must not share
# the gauge syndicate_subscriptions_disabled's family (Prometheus parsers strip _total).
METRIC_NAMES = {"subscriptions_disabled": "subscription_disablings"}


class RedisCollector(Collector):
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def collect(self) -> Iterator[Any]:
        store = self.rt.store
        stats = store.stats()
        for name, doc in COUNTERS.items():
            metric = f"syndicate_{METRIC_NAMES.get(name, name)}"
            yield CounterMetricFamily(metric, doc, value=stats.get(name, 0.0))
        depth = GaugeMetricFamily(
            "syndicate_queue_depth", "Messages waiting per Celery queue.", labels=["queue"]
        )
        for q, n in store.queue_lengths(list(QUEUES)).items():
            depth.add_metric([q], n)
        yield depth
        yield GaugeMetricFamily(
            "syndicate_retry_backlog",
            "Deliveries waiting for a later attempt.",
            value=store.due_count("deliver"),
        )
        yield GaugeMetricFamily(
            "syndicate_ingest_backlog",
            "Articles stored and not yet ingested.",
            value=store.due_count("ingest"),
        )
        yield GaugeMetricFamily(
            "syndicate_feeds_backing_off",
            "Feeds whose last render failed or overran, waiting to be tried again.",
            value=store.feeds_backing_off(),
        )
        yield GaugeMetricFamily(
            "syndicate_dead_letters", "Entries in the dead-letter list.", value=store.dead_letter_count()
        )
        yield GaugeMetricFamily(
            "syndicate_articles_embargoed",
            "Articles held unseen until their embargo lifts (or the source says usable).",
            value=store.embargoes()[0],
        )
        yield GaugeMetricFamily(
            "syndicate_subscriptions_disabled",
            "Subscriptions currently disabled.",
            value=store.disabled_subscription_count(),
        )
        yield GaugeMetricFamily(
            "syndicate_workers", "Workers with a fresh heartbeat.", value=len(store.workers())
        )
        yield from _feed_cache_metrics(self.rt.feed_cache.stats())


def _feed_cache_metrics(stats: dict[str, int]) -> Iterator[Any]:
    """This server process's feed cache (the only metrics here not read from Redis)."""
    yield CounterMetricFamily(
        "syndicate_feed_cache_hits", "Feed GETs answered from this server's memory.", value=stats["hits"]
    )
    yield CounterMetricFamily(
        "syndicate_feed_cache_misses", "Feed reads this server made from Redis.", value=stats["misses"]
    )
    yield CounterMetricFamily(
        "syndicate_feed_cache_invalidations",
        "Invalidation messages from Redis this server's feed cache acted on.",
        value=stats["invalidations"],
    )
    yield GaugeMetricFamily(
        "syndicate_feed_cache_bytes", "Feed bytes this server keeps in memory.", value=stats["bytes"]
    )
    yield GaugeMetricFamily(
        "syndicate_feed_cache_live",
        "1 while Redis invalidations arrive (the cache is in use), else 0.",
        value=stats["live"],
    )


def readiness(rt: Runtime) -> tuple[bool, str]:
    try:
        rt.store.ping()
        workers = rt.store.workers()
    except StorageUnavailable as exc:
        return False, f"redis does not answer: {exc}"
    if not workers:
        return False, "no worker heartbeat in the last 60 s"
    age = time.time() - max(float(w.get("at", 0)) for w in workers.values())
    if age > HEARTBEAT_MAX_AGE:
        return False, f"newest worker heartbeat is {age:.0f} s old"
    return True, f"{len(workers)} worker(s) alive"


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    ok, detail = readiness(rt_of(request))
    if ok:
        return JSONResponse({"status": "ready", "detail": detail})
    return JSONResponse({"error": "not_ready", "detail": detail}, status_code=503)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    registry = CollectorRegistry()
    registry.register(RedisCollector(rt_of(request)))
    try:
        body = generate_latest(registry)
    except StorageUnavailable as exc:
        return JSONResponse({"error": "storage_unavailable", "detail": str(exc)}, status_code=503)
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
