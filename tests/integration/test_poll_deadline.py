"""Issue 14: the poller's deadline holds against a dripping upstream (real Redis, worker, beat).

The hostile upstream (``tests.support.Dripper``, on 127.0.0.1) answers its status line and
headers at once and then one byte every 2 s for as long as the client listens: every socket
read gets a byte long before any read timeout, so only a wall-clock deadline ends the fetch.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery

from tests.integration.test_poller import A1, FeedServer, rss, source, write_config
from tests.support import Dripper, Proc, run_cli, start_worker, wait_for
from worker.runtime import Runtime
from worker.settings import Settings

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n\r\n"


@pytest.fixture
def dripper() -> Iterator[Dripper]:
    server = Dripper(HEAD, every=2.0)
    yield server
    server.stop()


@pytest.fixture
def upstream() -> Iterator[FeedServer]:
    server = FeedServer().start()
    yield server
    server.stop()


def state(env: dict[str, str], source_id: str) -> dict[str, str]:
    return Runtime.build(Settings.from_env(env)).store.source_state(source_id)


def test_syndicate_poll_returns_within_the_deadline_with_the_failure_recorded(
    dripper: Dripper, env: dict[str, str], tmp_path: Path
) -> None:
    env["SYNDICATE_FETCH_DEADLINE"] = "3"
    env["SYNDICATE_CONFIG_DIR"] = str(write_config(tmp_path / "cfg", [source("drip", dripper.url())]))
    before = time.time()
    # The drip would go on for as long as the client listens: only the deadline ends this command
    # (the subprocess timeout is the test's guard against a hang, not a measurement).
    r = run_cli(env, "poll", "drip", timeout=60)
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stdout.strip() == f"drip: error: {dripper.url()}: no complete answer within the 3s deadline"
    shown = json.loads(run_cli(env, "sources", "--json").stdout)[0]
    assert shown["status"] == "error" and shown["error_kind"] == "deadline" and shown["failures"] == 1
    st = state(env, "drip")
    assert float(st["next_at"]) >= before + 60  # backed off: `every` (60 s) after the first failure
    assert dripper.accepted == 1


def _tick_count(upstream: FeedServer) -> int:
    return len(upstream.requests("/tick.xml"))


def _sources(env: dict[str, str], tmp_path: Path, dripper: Dripper, upstream: FeedServer) -> None:
    """Sources ``drip`` (the hostile upstream) and ``tick`` (healthy, due every 10 s, so at least
    every other tick of beat, which runs every 5 s: its requests show that ticks go by)."""
    upstream.feed("/tick.xml", rss(A1), etag='"t"')
    sources = [source("drip", dripper.url()), source("tick", upstream.url("/tick.xml"), every=10)]
    env["SYNDICATE_CONFIG_DIR"] = str(write_config(tmp_path / "cfg", sources))
    env["SYNDICATE_BEAT_SCHEDULE"] = str(tmp_path / "beat-schedule")


def _beat(env: dict[str, str], tmp_path: Path) -> Proc:
    return Proc("beat", ["beat"], env, tmp_path / "beat.log").start()


def _assert_backed_off(env: dict[str, str], dripper: Dripper, upstream: FeedServer, kind: str) -> None:
    failed = wait_for(
        lambda: (st := state(env, "drip")).get("error_kind") == kind and st,
        75,
        0.2,
        f"the drip poll to fail with kind {kind!r}",
    )
    assert failed["status"] == "error" and failed["failures"] == "1"
    assert float(failed["next_at"]) >= time.time() + 30  # backed off (every=60), not due again
    # Two more polls of `tick` (at least two more ticks of beat) must not start the drip poll again.
    ticks = _tick_count(upstream)
    wait_for(lambda: _tick_count(upstream) >= ticks + 2, 60, 0.2, "two more polls of the tick source")
    assert dripper.accepted == 1
    assert state(env, "drip")["failures"] == "1"


def test_in_a_worker_a_dripping_poll_ends_by_its_deadline_and_backs_off(
    dripper: Dripper, upstream: FeedServer, env: dict[str, str], tmp_path: Path
) -> None:
    env["SYNDICATE_FETCH_DEADLINE"] = "3"
    _sources(env, tmp_path, dripper, upstream)
    beat = _beat(env, tmp_path)
    polls = start_worker(env, tmp_path / "poll.log", queues="poll", concurrency=1)
    ingest = start_worker(env, tmp_path / "ingest.log", queues="ingest,publish", concurrency=1)
    try:
        _assert_backed_off(env, dripper, upstream, "deadline")
    finally:
        beat.stop()
        polls.stop()
        ingest.stop()


def test_a_poll_cut_by_the_soft_time_limit_is_recorded_and_backed_off(
    dripper: Dripper, upstream: FeedServer, env: dict[str, str], tmp_path: Path
) -> None:
    """The fetch deadline (60 s by default) outlasts the soft time limit this poll is sent with
    (2 s, a per-message Celery option): the soft limit interrupts the poll in the worker, which
    records it and backs off like any other failure."""
    _sources(env, tmp_path, dripper, upstream)
    polls = start_worker(env, tmp_path / "poll.log", queues="poll", concurrency=1)
    ingest = start_worker(env, tmp_path / "ingest.log", queues="ingest,publish", concurrency=1)
    sender = Celery(broker=env["REDIS_URL"])
    beat: Proc | None = None
    try:
        # As beat's tick would: claim the source's poll, then send it (here with the short limit).
        assert Runtime.build(Settings.from_env(env)).store.claim_poll("drip", 300)
        sender.send_task("syndicate.poll", args=["drip"], queue="poll", soft_time_limit=2, time_limit=110)
        beat = _beat(env, tmp_path)
        _assert_backed_off(env, dripper, upstream, "soft time limit")
        assert state(env, "drip")["error"] == "the poll ran past the task's soft time limit"
    finally:
        if beat is not None:
            beat.stop()
        polls.stop()
        ingest.stop()
        sender.close()
