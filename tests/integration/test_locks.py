"""Locks and leases held by dead processes: taken over at once on this host, and once the worker's
heartbeat has expired on another host; any other holder is waited out until its time-to-live."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import requests

from tests.integration.test_end_to_end import TITLE, post_seed
from tests.support import ROOT, Api, Proc, Receiver, RedisServer, free_port, start_web, start_worker, wait_for
from worker.storage import Store


@pytest.fixture
def store(redis_server: RedisServer) -> Iterator[Store]:
    s = Store(redis_server.url)
    yield s
    s.close()


def _dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_a_dead_holder_of_this_host_is_taken_over_at_once(store: Store) -> None:
    assert store.acquire("publish", f"{socket.gethostname()}:{_dead_pid()}:t", ttl=120)
    assert store.acquire("publish", "me:1:a", ttl=120)


def test_a_live_holder_of_this_host_keeps_its_lock(store: Store) -> None:
    assert store.acquire("publish", f"{socket.gethostname()}:{os.getpid()}:t", ttl=120)
    assert not store.acquire("publish", "me:1:a", ttl=120)


def test_a_worker_elsewhere_is_dead_once_its_heartbeat_expired(store: Store) -> None:
    store.heartbeat("far-host:77", {"queues": ["ingest"]}, ttl=1)
    assert store.acquire("publish", "far-host:78:t|hb=far-host:77", ttl=120)
    assert not store.acquire("publish", "me:1:a", ttl=120)  # its worker still beats
    wait_for(lambda: store.acquire("publish", "me:1:a", ttl=120), 5, 0.1, "takeover after the heartbeat")
    assert store.r.get("syn:lock:publish") == b"me:1:a"
    assert store.r.pttl("syn:lock:publish") > 100_000  # the new holder's own time-to-live


def test_a_holder_elsewhere_that_no_heartbeat_vouches_for_is_waited_out(store: Store) -> None:
    """A CLI or web process on another host: nothing says whether it lives, so its TTL rules."""
    assert store.acquire("poll:src", "far-host:78:t", ttl=1.5)
    started = time.monotonic()
    assert not store.acquire("poll:src", "me:1:a", ttl=60)
    wait_for(lambda: store.acquire("poll:src", "me:1:a", ttl=60), 5, 0.05, "the TTL to run out")
    assert time.monotonic() - started > 1.0


def test_a_worker_names_its_heartbeat_in_the_leases_it_takes(
    stack: tuple[Api, Any, Any], redis_server: RedisServer
) -> None:
    """A real worker, a receiver slow enough to watch the delivery lease while it is held."""
    api, _, _ = stack
    slow = Receiver(behaviour=lambda n, r: (time.sleep(2), (200, {}, b"ok"))[1]).start()
    try:
        api.subscribe(slow.url, "global")
        post_seed(api)
        client = redis_server.client()
        holder = wait_for(
            lambda: next((v for k in client.scan_iter("syn:lock:dlv:*") if (v := client.get(k))), None),
            30,
            0.02,
            "a delivery lease",
        ).decode()
        vouch = holder.partition("|hb=")[2]
        assert vouch, f"the lease names no heartbeat: {holder}"
        assert client.exists(f"syn:hb:{vouch}"), f"{vouch} has no heartbeat"
        assert holder.partition(":")[0] == vouch.partition(":")[0] == socket.gethostname()
    finally:
        slow.stop()


def test_feeds_render_soon_after_a_renderer_on_a_lost_host(
    stack: tuple[Api, Any, Any], redis_server: RedisServer
) -> None:
    """The publish lock (TTL 120 s) is held by a worker of a host that is gone: its heartbeat
    has expired, so the feeds are rendered within seconds, not two minutes."""
    api, _, _ = stack
    client = redis_server.client()
    client.set("syn:lock:publish", "lost-host:4242:t|hb=lost-host:4242", px=120_000)
    post_seed(api)
    wait_for(lambda: TITLE in requests.get(api.base + "/feeds/global/all.rss", timeout=5).text, 30, 0.2)
    assert client.get("syn:lock:publish") != b"lost-host:4242:t|hb=lost-host:4242"


def _unshare_works() -> bool:
    ok = subprocess.run(["unshare", "--uts", "--fork", "true"], capture_output=True, check=False)
    return ok.returncode == 0


@pytest.mark.skipif(
    shutil.which("unshare") is None or not _unshare_works(),
    reason="needs `unshare --uts` (root or user namespaces) to run a worker under another host name",
)
def test_a_delivery_held_by_a_lost_host_is_made_by_another_host(env: dict[str, str], tmp_path: Path) -> None:
    """A worker under another host name (its own UTS namespace) is killed with SIGKILL while its
    webhook attempt hangs. The worker left on this host delivers the event, same webhook-id, once
    the lost worker's heartbeat (20 s) has expired: well before the lease's own TTL (90 s)."""
    env = {**env, "SYNDICATE_WEBHOOK_TIMEOUT": "60", "SYNDICATE_REDELIVER_AFTER": "2"}  # lease TTL 90 s
    release = threading.Event()
    receiver = Receiver(behaviour=lambda n, r: (n == 1 and release.wait(120), (200, {}, b"ok"))[1]).start()
    port = free_port()
    env["SYNDICATE_BASE_URL"] = f"http://127.0.0.1:{port}"
    web = start_web(env, tmp_path / "web.log", port)
    command = f'hostname lost-host && exec "{sys.executable}" -m worker.cli worker -c 2'
    lost = subprocess.Popen(
        ["unshare", "--uts", "--fork", "sh", "-c", command],
        env=env, cwd=ROOT, stdout=(tmp_path / "lost.log").open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    here: Proc | None = None
    try:
        api = Api(port)
        api.subscribe(receiver.url, "global")
        post_seed(api)
        wait_for(lambda: len(receiver.received) >= 1, 60, 0.05, "the lost host's attempt to start")
        holder = wait_for(lambda: next(iter(_leases(redis_client(env))), None), 10, 0.05, "its lease")
        assert holder.startswith("lost-host:") and "|hb=lost-host:" in holder
        os.killpg(lost.pid, signal.SIGKILL)
        lost.wait(10)
        killed_at = time.monotonic()
        here = start_worker(env, tmp_path / "here.log")
        wait_for(lambda: len(receiver.received) >= 2, 60, 0.1, "the delivery made from this host")
        took = time.monotonic() - killed_at
        first, second = receiver.received[0], receiver.received[1]
        assert second.headers["webhook-id"] == first.headers["webhook-id"]
        assert took < 60, f"{took:.0f} s: the lease's TTL was waited out instead"
    finally:
        release.set()
        if lost.poll() is None:
            os.killpg(lost.pid, signal.SIGKILL)
        if here is not None:
            here.stop()
        web.stop()
        receiver.stop()


def redis_client(env: dict[str, str]) -> redis.Redis:
    return redis.Redis.from_url(env["REDIS_URL"])


def _leases(client: redis.Redis) -> list[str]:
    return [v.decode() for k in client.scan_iter("syn:lock:dlv:*") if (v := client.get(k))]
