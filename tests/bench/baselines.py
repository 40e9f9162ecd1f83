"""The bare baselines: Celery no-op tasks, a loop of signed ``requests`` posts, and ``wrk``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import subprocess
import time

import requests

from tests.bench import noop_app
from tests.bench.harness import Bench, cpu_seconds, stop_group, timed_until
from tests.bench.receiver import ensure_tool


def celery_noop(bench: Bench, n: int, concurrency: int = 2) -> dict[str, float]:
    """Time ``n`` no-op tasks end to end on a prefork worker; tasks/s."""
    r = bench.redis
    r.delete(noop_app.COUNTER, noop_app.QUEUE)
    noop_app.app.conf.broker_url = bench.env["REDIS_URL"]
    proc = bench.start_noop_worker(concurrency)
    try:
        # Warm up: the worker is up and its pool forked once a first task is done.
        noop_app.noop.apply_async((0,))
        timed_until(lambda: int(r.get(noop_app.COUNTER) or 0) >= 1, 60, "the no-op worker")
        r.delete(noop_app.COUNTER)
        cpu = cpu_seconds(proc.pid)
        started = time.monotonic()
        with noop_app.app.producer_or_acquire() as producer:
            for i in range(n):
                noop_app.noop.apply_async((i,), producer=producer)
        sent = time.monotonic()
        done = timed_until(lambda: int(r.get(noop_app.COUNTER) or 0) >= n, 600, f"{n} no-op tasks")
        cpu = cpu_seconds(proc.pid) - cpu
    finally:
        stop_group(proc)
    return {
        "tasks": n,
        "seconds": round(done - started, 3),
        "send_seconds": round(sent - started, 3),
        "tasks_per_s": round(n / (done - started), 1),
        "worker_cpu_ms_per_task": round(cpu * 1000 / n, 2),
    }


def _sign(key: bytes, msg_id: str, ts: int, body: bytes) -> str:
    digest = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_posts(url: str, n: int, body: bytes) -> dict[str, float]:
    """A bare loop of ``n`` signed POSTs on one keep-alive ``requests`` session; posts/s."""
    key = secrets.token_bytes(32)
    session = requests.Session()
    session.trust_env = False
    started = time.monotonic()
    for i in range(n):
        ts = int(time.time())
        msg_id = f"msg_{i}"
        headers = {
            "webhook-id": msg_id,
            "webhook-timestamp": str(ts),
            "webhook-signature": _sign(key, msg_id, ts, body),
            "content-type": "application/json",
        }
        r = session.post(url, data=body, headers=headers, timeout=10)
        r.raise_for_status()
    elapsed = time.monotonic() - started
    return {"posts": n, "seconds": round(elapsed, 3), "posts_per_s": round(n / elapsed, 1)}


def wrk(
    url: str, seconds: float, headers: dict[str, str] | None = None, connections: int = 8
) -> dict[str, float]:
    """Requests/s from ``wrk`` (2 threads) against ``url``; also checks the status codes."""
    binary = ensure_tool("wrk", "wrk")
    args = [binary, "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    for k, v in (headers or {}).items():
        args += ["-H", f"{k}: {v}"]
    out = subprocess.run(
        [*args, url], capture_output=True, text=True, timeout=seconds + 30, check=True
    ).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    if rps is None:
        raise RuntimeError(f"wrk printed no Requests/sec:\n{out}")
    return {
        "requests_per_s": float(rps.group(1)),
        "errors": int(bad.group(1)) if bad else 0,
        "p50_ms": _ms(p50.group(1), p50.group(2)) if p50 else -1.0,
    }


def _ms(value: str, unit: str) -> float:
    return round(float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], 3)


def sample_body() -> bytes:
    """A webhook body of a typical size (about 3 KB)."""
    article = {"id": "a" * 24, "title": "T" * 80, "body_html": "<p>" + "x" * 2500 + "</p>"}
    doc = {"type": "article.published", "timestamp": "2024-01-01T00:00:00Z", "data": {"article": article}}
    return json.dumps(doc).encode()
