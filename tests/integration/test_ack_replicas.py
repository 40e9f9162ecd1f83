"""``SYNDICATE_ACK_REPLICAS``: an acknowledged write waits until that many replicas hold it.

A real primary; first with no replica at all (so ``WAIT 1`` cannot be satisfied: every
acknowledged write must answer 503 in bounded time and claim nothing), then with a real
``replicaof`` replica attached (the same writes answer as usual).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.integration.test_faults import cms_article
from tests.sentinel_support import Node
from tests.support import (
    ROOT,
    Api,
    Proc,
    RedisServer,
    base_env,
    free_port,
    run_cli,
    start_web,
    start_worker,
    wait_for,
)


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
    # bounded by SYNDICATE_ACK_TIMEOUT_MS: an answer, not a hang (the client gives up after 30 s)
    r = api.post_article(cms_article("ack", 1), "application/json")
    assert r.status_code == 503, r.text
    assert r.json()["error"] == "storage_unavailable" and r.headers["Retry-After"]

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
            90,
            what="the replica in sync",
        )
        again = api.post_article(cms_article("ack", 1), "application/json")  # the client retries
        assert again.status_code == 202, again.text
        staged = f"syn:staged:{again.json()['id']}"
        wait_for(lambda: replica.client().exists(staged), 60, what="the article on the replica")
        made = api.subscribe("http://127.0.0.1:9/hook", "global")
        assert made["secret"].startswith("whsec_")
        out = run_cli(env, "ingest", str(article))
        assert out.returncode == 0, out.stderr
        assert len(out.stdout.split()) == 1
    finally:
        replica.stop()


def test_accept_task_is_requeued_until_a_replica_confirms(redis_server: RedisServer, tmp_path: Path) -> None:
    """The Celery accept task cannot answer 503: an article it could not get confirmed goes back
    to the queue (not acknowledged to the broker), and is accepted once a replica is there.
    (Its unconfirmed staged copy may be ingested meanwhile: the same id, so still one article.)"""
    env = base_env(redis_server.url, SYNDICATE_ACK_REPLICAS="1", SYNDICATE_ACK_TIMEOUT_MS="300")
    worker = start_worker(env, tmp_path / "worker.log")
    replica: Node | None = None
    try:
        sender = (
            "import sys\n"
            "from worker.tasks import accept\n"
            "accept.delay({'format': 'json', 'body': sys.argv[1]}, 'ack-test')\n"
        )
        body = cms_article("ack-task", 1)
        subprocess.run([sys.executable, "-c", sender, body], env=env, cwd=ROOT, check=True, timeout=60)
        requeued = lambda: worker.log.read_text().count("message requeued") >= 2  # noqa: E731
        wait_for(requeued, 120, 0.2, what="the message requeued, twice")
        client = redis_server.client()
        replica = Node(free_port(), tmp_path / "replica", replica_of=redis_server.port)
        replica.start()
        wait_for(lambda: client.keys("syn:art:*"), 120, 0.2, what="the article accepted and ingested")
        assert len(client.keys("syn:art:*")) == 1
    finally:
        worker.stop()
        if replica is not None:
            replica.stop()
