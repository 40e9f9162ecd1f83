"""Scenarios that depend on store size: growth, memory (serving: ``tests.bench.serving``).

The large store is seeded through the storage layer (``plan_ingest`` + ``Store.commit_many``,
the writes an ingest makes) from two processes, without Celery, to save time; the articles the
scenarios then time go through the whole pipeline (``POST /articles``).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.bench.harness import Bench, timed_until
from tests.bench.scenarios import cms_article

ROUNDS = 5


def _seed_range(env: dict[str, str], start: int, stop: int) -> int:
    """Commit articles ``start..stop`` through the storage layer (runs in a child process)."""
    os.environ.update(env)
    from worker.ingest import plan_ingest
    from worker.models import RawInput
    from worker.normalize import normalize
    from worker.runtime import runtime

    rt = runtime()
    template = normalize(RawInput(format="json", body=json.dumps(cms_article(0, "seed"))), rt.config.notices)
    base = datetime(2020, 1, 1, tzinfo=UTC)
    for i in range(start, stop):
        article = template.model_copy(
            update={
                "id": f"seed{i:07d}",
                "title": f"Seeded article {i}",
                "published_at": base + timedelta(minutes=i),
                "content_hash": f"seed{i}",
            }
        )
        commit = plan_ingest(
            article,
            None,
            audiences=rt.config.audiences,
            notices=rt.config.notices,
            subscriptions={},
            at=datetime.now(UTC),
            payload_cap=rt.settings.webhook_payload_cap,
        )
        assert commit is not None
        rt.store.stage(article)
        rt.store.commit_many([(article.model_dump_json(), commit)])
    return stop - start


def seed(bench: Bench, start: int, stop: int, procs: int = 2) -> float:
    """Seconds taken to bring the store from ``start`` to ``stop`` seeded articles."""
    started = time.monotonic()
    step = max(1, (stop - start) // procs + 1)
    with ProcessPoolExecutor(procs) as pool:
        ranges = [(a, min(stop, a + step)) for a in range(start, stop, step)]
        list(pool.map(_seed_range, [bench.env] * len(ranges), *zip(*ranges, strict=True)))
    return time.monotonic() - started


def settled(bench: Bench) -> bool:
    """No feed waiting to be rendered, no article waiting to be ingested."""
    r = bench.redis
    return not r.hlen("syn:dirty") and not r.zcard("syn:due:ingest")


def _render_stats(bench: Bench) -> tuple[float, float]:
    stats = {k.decode(): float(v) for k, v in bench.redis.hgetall("syn:stats").items()}
    return stats.get("feed_renders", 0.0), stats.get("feed_render_seconds", 0.0)


def _publish_cost(bench: Bench, tag: str) -> dict[str, float]:
    """Median seconds from ``POST /articles`` to every feed re-rendered, over ``ROUNDS``."""
    api = bench.api
    assert api is not None
    timed_until(lambda: settled(bench), 900, "feeds settled before measuring")
    renders0, seconds0 = _render_stats(bench)
    times = []
    for i in range(ROUNDS):
        started = time.monotonic()
        r = api.post_article(json.dumps(cms_article(i, tag)), "application/json")
        r.raise_for_status()
        aid = r.json()["id"]
        done = timed_until(
            lambda aid=aid: api.article(aid)["status"] == "published" and settled(bench),
            120,
            "article published and feeds rendered",
        )
        times.append(done - started)
        time.sleep(0.2)
    renders1, seconds1 = _render_stats(bench)
    per_render = (seconds1 - seconds0) / max(1.0, renders1 - renders0)
    return {
        "publish_median_s": round(statistics.median(times), 3),
        "render_ms_per_feed": round(per_render * 1000, 2),
    }


def growth_and_memory(bench: Bench, small: int, large: int) -> list[dict[str, Any]]:
    """Publish cost and worker RSS with ``small`` then ``large`` articles stored."""
    bench.flush()
    seed_small = seed(bench, 0, small)
    bench.start_stack()
    try:
        cost_small = _publish_cost(bench, "gs")
        rss_small = bench.worker_rss_mb()
        seed_large = seed(bench, small, large)
        settle_started = time.monotonic()
        timed_until(lambda: settled(bench), 1800, "renders after seeding")
        settle = time.monotonic() - settle_started
        cost_large = _publish_cost(bench, "gl")
        rss_large = bench.worker_rss_mb()
    finally:
        bench.stop_stack()
    ratio = cost_large["publish_median_s"] / cost_small["publish_median_s"]
    render_ratio = cost_large["render_ms_per_feed"] / max(0.01, cost_small["render_ms_per_feed"])
    growth = {
        "scenario": "growth",
        "small": small,
        "large": large,
        "at_small": cost_small,
        "at_large": cost_large,
        "ratio": round(ratio, 3),
        "render_ratio": round(render_ratio, 3),
        "seed_seconds": round(seed_small + seed_large, 1),
        "settle_seconds_after_seed": round(settle, 1),
        "target": "<= 1.2",
        "met": ratio <= 1.2,  # the render ratio is reported beside it, to read, not to judge
        "summary_ours": f"{cost_small['publish_median_s']}s -> {cost_large['publish_median_s']}s",
    }
    mem_ratio = rss_large / rss_small
    memory = {
        "scenario": "memory",
        "small": small,
        "large": large,
        "worker_rss_mb_small": round(rss_small, 1),
        "worker_rss_mb_large": round(rss_large, 1),
        "ratio": round(mem_ratio, 3),
        "target": "<= 1.1",
        "met": mem_ratio <= 1.1,
        "summary_ours": f"{rss_small:.1f} MiB -> {rss_large:.1f} MiB",
        "note": "RSS of both worker process trees (prefork ingest/publish + threaded webhooks)",
    }
    return [growth, memory]
