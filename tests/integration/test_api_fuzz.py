"""schemathesis over ``/openapi.json`` of a running server: no generated request gets a 5xx.

The worker here consumes only ``ingest`` and ``publish``: subscriptions that the fuzzer creates
point at arbitrary hosts, and nothing may ever call them, so no process consumes ``webhooks``
(the deliveries stay pending in Redis). Everything listens and is called on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import requests

from tests.support import TOKEN, Api, RedisServer, base_env, free_port, start_web, start_worker, wait_for

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
MAX_EXAMPLES = 25


def seed(api: Api) -> dict[str, str]:
    """Real ids for the path parameters, so the fuzzer gets past the 404s to the code behind."""
    sub = api.subscribe("http://127.0.0.1:9/never-called", "ru")
    body = {"guid": "fuzz-seed", "source": "rferl", "title": "Seed", "body_text": "Text.", "section": "World"}
    r = api.post_article(json.dumps(body), "application/json")
    assert r.status_code == 202, r.text
    article_id = r.json()["id"]
    api.wait_published(article_id)
    deliveries = wait_for(
        lambda: api.get(f"/subscriptions/{sub['id']}/deliveries", headers=api.auth).json()["deliveries"],
        30,
        what="a pending delivery",
    )
    wait_for(lambda: api.get("/feeds/ru/all.rss").ok, 30, what="the ru feed rendered")
    return {"sub_id": sub["id"], "article_id": article_id, "delivery_id": deliveries[0]["id"]}


def config(ids: dict[str, str]) -> str:
    """schemathesis.toml: the seeded ids, except for DELETE, which would remove the subscription."""
    keep = [
        "GET /subscriptions/{sub_id}",
        "PATCH /subscriptions/{sub_id}",
        "POST /subscriptions/{sub_id}/rotate-secret",
        "GET /subscriptions/{sub_id}/deliveries",
    ]
    lines = [f'parameters = {{ article_id = "{ids["article_id"]}", delivery_id = "{ids["delivery_id"]}" }}']
    for name in keep:
        lines += [
            "",
            "[[operations]]",
            f'include-name = "{name}"',
            f'parameters = {{ sub_id = "{ids["sub_id"]}" }}',
        ]
    return "\n".join(lines) + "\n"


def test_no_server_errors(tmp_path: Path, redis_binary: str) -> None:
    server = RedisServer(free_port(), tmp_path / "redis")
    server.start()
    port = free_port()
    env = base_env(
        server.url, SYNDICATE_BASE_URL=f"http://127.0.0.1:{port}", SYNDICATE_MAX_BODY_BYTES="65536"
    )
    worker = start_worker(env, tmp_path / "worker.log", queues="ingest,publish")
    web = start_web(env, tmp_path / "web.log", port)
    try:
        api = Api(port)
        (tmp_path / "schemathesis.toml").write_text(config(seed(api)), encoding="utf-8")
        base = f"http://127.0.0.1:{port}"
        assert requests.get(base + "/readyz", timeout=10).ok  # a worker beats: /readyz may answer 200
        no_proxy = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        run = subprocess.run(
            [
                str(SCHEMATHESIS),
                "--config-file",
                str(tmp_path / "schemathesis.toml"),
                "run",
                f"{base}/openapi.json",
                "--checks",
                "not_a_server_error",
                "-H",
                f"Authorization: Bearer {TOKEN}",
                "--max-examples",
                str(MAX_EXAMPLES),
                "--generation-database",
                "none",
                "--request-timeout",
                "20",
                "--no-color",
                "--seed",
                "20240301",
            ],
            cwd=tmp_path,
            env={**no_proxy, "NO_PROXY": "127.0.0.1,localhost"},
            capture_output=True,
            text=True,
            timeout=240,
        )
        report = run.stdout[-8000:] + run.stderr[-2000:]
        assert run.returncode == 0, report
        generated = re.search(r"(\d+) generated", run.stdout)
        assert generated and int(generated.group(1)) >= 300, report
        assert "Server error" not in run.stdout, report
        for log in ("web.log", "worker.log"):
            assert TOKEN not in (tmp_path / log).read_text(errors="replace")
    finally:
        web.stop()
        worker.stop()
        server.stop()
