"""The SSRF guard at the HTTP API, with private targets not allowed (as in production).

Every URL here names its address literally, so nothing is resolved and nothing is connected
to: the refusal happens before any traffic. No worker runs in this module.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support import (
    ROOT,
    Api,
    Proc,
    Receiver,
    RedisServer,
    base_env,
    free_port,
    start_web,
    start_worker,
    wait_for,
)

REFUSED = [
    ("private-10", "http://10.0.0.1/hook"),
    ("private-192-168", "https://192.168.1.20:8443/hook"),
    ("cloud-metadata", "http://169.254.169.254/latest/meta-data/"),
    ("loopback-v4", "http://127.0.0.1:9/hook"),
    ("loopback-v6", "http://[::1]:8080/hook"),
    ("loopback-name", "http://localhost/hook"),
    ("cgnat", "http://100.64.0.1/hook"),
    ("unspecified", "http://0.0.0.0/hook"),
    ("ipv4-mapped", "http://[::ffff:10.0.0.1]/hook"),
    ("nat64", "http://[64:ff9b::a9fe:a9fe]/hook"),
    ("unique-local-v6", "http://[fd00::1]/hook"),
    ("multicast", "http://224.0.0.1/hook"),
    ("decimal-loopback", "http://2130706433/hook"),
    ("hex-loopback", "http://0x7f.1/hook"),
]


@pytest.fixture(scope="module")
def guarded_api(
    tmp_path_factory: pytest.TempPathFactory, redis_binary: str
) -> Iterator[tuple[Api, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("guard")
    server = RedisServer(free_port(), tmp / "redis")
    server.start()
    env = base_env(server.url)
    env.pop("SYNDICATE_WEBHOOK_ALLOW_PRIVATE")
    port = free_port()
    web: Proc = start_web(env, tmp / "web.log", port)
    try:
        yield Api(port), env
    finally:
        web.stop()
        server.stop()


@pytest.mark.parametrize("url", [u for _, u in REFUSED], ids=[name for name, _ in REFUSED])
def test_private_targets_are_refused_at_creation(guarded_api: tuple[Api, dict[str, str]], url: str) -> None:
    api, _ = guarded_api
    r = requests.post(
        f"{api.base}/subscriptions", json={"url": url, "audience": "global"}, headers=api.auth, timeout=10
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"] in ("invalid_subscription", "validation_error")
    assert (
        requests.get(f"{api.base}/subscriptions", headers=api.auth, timeout=10).json()["subscriptions"] == []
    )


def test_other_schemes_are_refused(guarded_api: tuple[Api, dict[str, str]]) -> None:
    api, _ = guarded_api
    for url in ("ftp://93.184.216.34/hook", "file:///etc/passwd", "gopher://93.184.216.34/"):
        r = requests.post(
            f"{api.base}/subscriptions", json={"url": url, "audience": "global"}, headers=api.auth, timeout=10
        )
        assert r.status_code == 422, (url, r.text)


def test_a_public_address_is_accepted_and_cannot_be_changed_to_a_private_one(
    guarded_api: tuple[Api, dict[str, str]],
) -> None:
    api, _ = guarded_api
    # A literal public address: accepted without any lookup; no worker runs, nothing is sent.
    sub = api.subscribe("https://93.184.216.34/hook", "global")
    try:
        r = requests.patch(
            f"{api.base}/subscriptions/{sub['id']}",
            json={"url": "http://169.254.169.254/latest/meta-data/"},
            headers=api.auth,
            timeout=10,
        )
        assert r.status_code == 422, r.text
        shown = requests.get(f"{api.base}/subscriptions/{sub['id']}", headers=api.auth, timeout=10).json()
        assert shown["url"] == "https://93.184.216.34/hook"
    finally:
        requests.delete(f"{api.base}/subscriptions/{sub['id']}", headers=api.auth, timeout=10)


def test_the_cli_refuses_a_private_target(guarded_api: tuple[Api, dict[str, str]]) -> None:
    _, env = guarded_api
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "worker.cli",
            "subscriptions",
            "add",
            "http://10.0.0.1/hook",
            "--audience",
            "global",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2, r.stdout + r.stderr
    assert "10.0.0.1" in r.stderr and "private" in r.stderr


def test_the_target_is_checked_again_at_delivery(
    redis_server: RedisServer, tmp_path: Path, receiver: Receiver
) -> None:
    """A subscription stored while private targets were allowed is refused by a worker that does
    not allow them: the delivery is dead and the receiver on 127.0.0.1 gets nothing."""
    allowing = base_env(redis_server.url)
    strict = {k: v for k, v in allowing.items() if k != "SYNDICATE_WEBHOOK_ALLOW_PRIVATE"}
    port = free_port()
    web = start_web(allowing, tmp_path / "web.log", port)
    worker = start_worker(strict, tmp_path / "worker.log", concurrency=2, pool="threads")
    api = Api(port)
    try:
        sub = api.subscribe(receiver.url, "global")
        doc = {
            "guid": "guard-1",
            "source": "example",
            "title": "Guarded",
            "language": "en",
            "body_html": "<p>x</p>",
        }
        r = api.post_article(json.dumps(doc), "application/json")
        assert r.status_code == 202, r.text

        def dead() -> dict[str, Any] | None:
            rows = api.get(f"/subscriptions/{sub['id']}/deliveries", headers=api.auth).json()["deliveries"]
            return rows[0] if rows and rows[0]["status"] == "dead" else None

        d = wait_for(dead, 60, what="the delivery refused at delivery time")
        assert d["attempts"] == 0 and "forbidden target" in d["last_error"] and "loopback" in d["last_error"]
        assert receiver.received == []
    finally:
        worker.stop()
        web.stop()
