"""``SYNDICATE_ACK_REPLICAS``: an acknowledged write waits until that many replicas hold it.

A real primary; first with no replica at all (so ``WAIT 1`` cannot be satisfied: every
acknowledged write must answer 503 in bounded time and claim nothing), then with a real
``replicaof`` replica attached (the same writes answer as usual).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.integration.test_faults import cms_article
from tests.sentinel_support import Node
from tests.support import Api, Proc, RedisServer, base_env, free_port, run_cli, start_web, wait_for


@pytest.fixture
def acked(redis_server: RedisServer, tmp_path: Path) -> Iterator[tuple[Api, dict[str, str]]]:
    port = free_port()
    env = base_env(redis_server.url, SYNDICATE_ACK_REPLICAS="1", SYNDICATE_ACK_TIMEOUT_MS="300")
    web: Proc = start_web(env, tmp_path / "web.log", port)
    try:
        yield Api(port), env
    finally:
        web.stop()


def test_without_a_replica_nothing_is_acknowledged_then_with_one_it_is(
    acked: tuple[Api, dict[str, str]], redis_server: RedisServer, tmp_path: Path
) -> None:
    api, env = acked
    started = time.monotonic()
    r = api.post_article(cms_article("ack", 1), "application/json")
    assert r.status_code == 503, r.text
    assert r.json()["error"] == "storage_unavailable" and r.headers["Retry-After"]
    assert time.monotonic() - started < 10  # bounded by SYNDICATE_ACK_TIMEOUT_MS, not a hang

    sub = requests.post(
        api.base + "/subscriptions",
        json={"url": "http://127.0.0.1:9/hook", "audience": "global"},
        headers=api.auth,
        timeout=10,
    )
    assert sub.status_code == 503, sub.text
    # the subscription nobody got the secret of was taken back: a retry leaves one, not two
    listed = requests.get(api.base + "/subscriptions", headers=api.auth, timeout=10).json()
    assert listed["subscriptions"] == [], listed

    article = tmp_path / "a.json"
    article.write_text(cms_article("ack-cli", 1))
    out = run_cli(env, "ingest", str(article))
    assert out.returncode == 1 and out.stdout == "", (out.stdout, out.stderr)
    assert "replica" in out.stderr and len(out.stderr.strip().splitlines()) == 1

    replica = Node(free_port(), tmp_path / "replica", replica_of=redis_server.port)
    replica.start()
    try:
        wait_for(
            lambda: replica.client().info("replication").get("master_link_status") == "up",
            30,
            what="the replica in sync",
        )
        again = api.post_article(cms_article("ack", 1), "application/json")  # the client retries
        assert again.status_code == 202, again.text
        staged = f"syn:staged:{again.json()['id']}"
        wait_for(lambda: replica.client().exists(staged), 10, what="the article on the replica")
        made = api.subscribe("http://127.0.0.1:9/hook", "global")
        assert made["secret"].startswith("whsec_")
        out = run_cli(env, "ingest", str(article))
        assert out.returncode == 0, out.stderr
        assert len(out.stdout.split()) == 1
    finally:
        replica.stop()
