"""Issue 10: health, readiness and metrics while work flows and when parts are missing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.integration.test_end_to_end import post_seed
from tests.support import Api, RedisServer, free_port, start_web, wait_for


def _metrics(api: Api) -> dict[str, float]:
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(api.get("/metrics").text):
        for sample in family.samples:
            label = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            out[sample.name + (f"{{{label}}}" if label else "")] = sample.value
    return out


def test_ready_and_metrics_while_work_flows(stack: tuple[Api, Any, Any]) -> None:
    api, _, _ = stack
    ready = wait_for(lambda: (r := api.get("/readyz")).status_code == 200 and r, 30, what="ready")
    assert "worker" in ready.json()["detail"]
    api.wait_published(post_seed(api))
    m = wait_for(lambda: (x := _metrics(api)).get("syndicate_feed_renders_total", 0) > 0 and x, 20)
    assert m["syndicate_articles_ingested_total"] == 1
    assert m["syndicate_workers"] == 1
    assert "syndicate_queue_depth{queue=ingest}" in m and "syndicate_queue_depth{queue=webhooks}" in m
    assert m["syndicate_ingest_backlog"] == 0
    assert api.get("/healthz").json() == {"status": "ok"}
    # Every family has its own name in Prometheus's own parser (it strips _total from counters).
    families = [f.name for f in text_string_to_metric_families(api.get("/metrics").text)]
    assert len(families) == len(set(families)), sorted(families)
    kinds = {f.name: f.type for f in text_string_to_metric_families(api.get("/metrics").text)}
    assert kinds["syndicate_subscriptions_disabled"] == "gauge"
    assert kinds["syndicate_subscription_disablings"] == "counter"


def test_not_ready_without_worker_or_redis(
    env: dict[str, str], tmp_path: Path, redis_server: RedisServer
) -> None:
    port = free_port()
    web = start_web(env, tmp_path / "web.log", port)
    api = Api(port)
    try:
        r = api.get("/readyz")
        assert r.status_code == 503 and "heartbeat" in r.json()["detail"]
        redis_server.stop()
        body = wait_for(
            lambda: (
                (x := api.get("/readyz")).status_code == 503 and "redis" in x.json()["detail"] and x.json()
            ),
            20,
            what="readyz naming redis",
        )
        assert body["error"] == "not_ready"
        assert api.get("/healthz").status_code == 200  # alive, just not ready
        assert api.get("/metrics").status_code == 503
    finally:
        web.stop()
