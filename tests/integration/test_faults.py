"""Nothing acknowledged is lost: the worker and Redis die mid-stream, receivers go away.

Each test streams distinct CMS articles through ``POST /articles`` while something breaks, then
checks the promise of issue 8: every article that got ``202`` is published, sits exactly once in
the feed, and reaches each subscriber under exactly one ``webhook-id`` (re-sends of that id are
allowed: delivery is at-least-once and receivers dedupe by id).
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support import Api, Proc, Receiver, RedisServer, start_worker, wait_for

ARTICLES = 300  # the number; the whole stream posts in a few seconds on 2 cores
FEED = "/feeds/global/all.json"


@pytest.fixture
def env(env: dict[str, str]) -> dict[str, str]:
    env["SYNDICATE_FEED_WINDOW"] = "1000"  # every article of a run fits in one feed
    env["SYNDICATE_WEBHOOK_RETRY_SCHEDULE"] = "0.5,1,1,1,2,2,2,2"  # nine attempts over about 11 s
    return env


@pytest.fixture
def restarted() -> Iterator[list[Proc]]:
    """Workers a test starts itself; stopped at the end whatever happened."""
    procs: list[Proc] = []
    yield procs
    for p in procs:
        p.stop()


def cms_article(tag: str, n: int) -> str:
    return json.dumps(
        {
            "guid": f"{tag}-{n}",
            "source": "faultline",
            "title": f"{tag} article number {n}",
            "published_at": f"2024-03-01T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z",
            "body_html": f"<p>Paragraph one of {tag} {n}.</p><p>Paragraph two.</p>",
            "language": "en",
            "section": "Faults",
        }
    )


class Stream(threading.Thread):
    """Posts ``count`` articles one after the other and records every answer."""

    def __init__(self, api: Api, tag: str, count: int) -> None:
        super().__init__(daemon=True)
        self.api, self.tag, self.count = api, tag, count
        self.accepted: list[str] = []
        self.statuses: Counter[int] = Counter()
        self.sent = 0
        self.slowest_refusal = 0.0
        self.pause = threading.Event()
        self.parked = threading.Event()

    def run(self) -> None:
        for n in range(self.count):
            while self.pause.is_set():
                self.parked.set()
                time.sleep(0.02)
            self.parked.clear()
            started = time.monotonic()
            try:
                r = self.api.post_article(cms_article(self.tag, n), "application/json")
                status = r.status_code
            except requests.RequestException:
                status = 0
            if status == 202:
                self.accepted.append(r.json()["id"])
            elif status == 503:
                self.slowest_refusal = max(self.slowest_refusal, time.monotonic() - started)
            self.statuses[status] += 1
            self.sent = n + 1

    def hold(self) -> Counter[int]:
        """Stop posting; returns the answers so far once no request is in flight."""
        self.pause.set()
        wait_for(lambda: self.parked.is_set() or not self.is_alive(), 60, 0.01, what="stream parked")
        return Counter(self.statuses)

    def resume(self) -> None:
        self.parked.clear()
        self.pause.clear()

    def wait_sent(self, n: int) -> None:
        wait_for(lambda: self.sent >= n or not self.is_alive(), 120, 0.01, what=f"{n} articles sent")


def ingested(api: Api) -> float:
    """Article versions committed so far, from ``/metrics``."""
    for line in api.get("/metrics").text.splitlines():
        if line.startswith("syndicate_articles_ingested_total "):
            return float(line.split()[1])
    return 0.0


def all_published(api: Api, ids: list[str], timeout: float = 90) -> None:
    pending = set(ids)

    def check() -> bool:
        for aid in list(pending):
            if api.article(aid).get("status") == "published":
                pending.discard(aid)
        return not pending

    wait_for(check, timeout, 0.5, what=f"{len(ids)} articles published (pending: {sorted(pending)[:5]})")


def feed_counts(api: Api) -> Counter[str]:
    items = api.get(FEED).json()["items"]
    return Counter(item["id"].rsplit(":", 1)[-1].rsplit("/", 1)[-1] for item in items)


def assert_in_feed_once(api: Api, ids: list[str]) -> None:
    wanted = set(ids)
    wait_for(lambda: wanted <= set(feed_counts(api)), 60, 0.5, what="every article in the feed")
    counts = feed_counts(api)
    assert set(counts) == wanted, f"unexpected items: {sorted(set(counts) - wanted)[:5]}"
    assert max(counts.values()) == 1, f"duplicates: {[a for a, c in counts.items() if c > 1][:5]}"


def assert_one_webhook_id_each(receiver: Receiver, ids: list[str], timeout: float = 60) -> None:
    wanted = set(ids)
    wait_for(lambda: wanted <= set(receiver.webhook_ids()), timeout, 0.5, what="a webhook per article")
    by_article = receiver.webhook_ids()
    assert set(by_article) == wanted
    assert all(len(hook_ids) == 1 for hook_ids in by_article.values()), "an article got two webhook-ids"
    assert len(set().union(*by_article.values())) == len(wanted)
    types = {rec.json()["type"] for rec in receiver.received}
    assert types == {"article.published"}


def test_worker_sigkilled_twice_mid_stream(
    stack: tuple[Api, Proc, Proc],
    env: dict[str, str],
    tmp_path: Path,
    receiver: Receiver,
    restarted: list[Proc],
) -> None:
    api, worker, _ = stack
    sub = api.subscribe(receiver.url, "global", events=["article.published"])
    stream = Stream(api, "kill", ARTICLES)
    stream.start()
    current, mark = worker, 0
    for threshold in (ARTICLES // 3, 2 * ARTICLES // 3):
        stream.wait_sent(threshold)
        stream.hold()  # until the worker about to die is busy: it has committed articles
        wait_for(lambda m=mark: ingested(api) > m, 60, 0.05, what="the worker at work")
        stream.resume()
        stream.wait_sent(threshold + 5)
        current.kill()  # SIGKILL to the whole process group: main process and pool children
        assert current.proc is not None
        current.proc.wait(10)
        assert stream.is_alive()  # articles still stream in
        mark = ingested(api)
        current = start_worker(env, tmp_path / "worker.log")
        restarted.append(current)
    stream.join(120)
    assert stream.statuses == Counter({202: ARTICLES}), stream.statuses
    all_published(api, stream.accepted)
    assert_in_feed_once(api, stream.accepted)
    assert_one_webhook_id_each(receiver, stream.accepted)
    # No secret in any log of the run: not the API token, not the subscription's signing secret.
    logs = (tmp_path / "worker.log").read_text(errors="replace") + (tmp_path / "web.log").read_text(
        errors="replace"
    )
    assert "article committed" in logs  # the logs are the real ones
    secret_body = sub["secret"].removeprefix("whsec_")
    for secret in (api.auth["Authorization"].split()[1], sub["secret"], secret_body):
        assert secret not in logs


def test_redis_restart_mid_stream(
    stack: tuple[Api, Proc, Proc], redis_server: RedisServer, receiver: Receiver
) -> None:
    api, _, _ = stack
    api.subscribe(receiver.url, "global", events=["article.published"])
    count = ARTICLES // 2
    stream = Stream(api, "redis", count)
    stream.start()
    stream.wait_sent(count // 3)
    stream.hold()
    redis_server.stop()  # SIGTERM: Redis fsyncs the AOF and exits
    stream.resume()
    # while Redis is down nothing may answer 202 for an article it could not store
    wait_for(lambda: stream.statuses[503] >= 10 or not stream.is_alive(), 60, 0.05, what="503s while down")
    while_down = stream.hold()
    assert set(while_down) <= {202, 503}, while_down
    direct = api.post_article(cms_article("redis-down", 0), "application/json")
    assert direct.status_code == 503
    assert direct.json()["error"] == "storage_unavailable" and direct.headers["Retry-After"]
    redis_server.start()  # same port, same directory: the AOF brings the data back
    stream.resume()
    stream.join(120)
    after = stream.statuses - while_down
    assert after == Counter({202: count - while_down.total()}), after  # the server reconnected by itself
    assert stream.statuses[202] == len(stream.accepted)
    assert stream.slowest_refusal < 10  # "quickly": a refusal never waits out a long timeout
    all_published(api, stream.accepted)
    assert_in_feed_once(api, stream.accepted)
    assert_one_webhook_id_each(receiver, stream.accepted)


def test_receiver_down_then_back(stack: tuple[Api, Proc, Proc], env: dict[str, str]) -> None:
    api, _, _ = stack
    down, up = Receiver().start(), Receiver().start()
    try:
        gone = api.subscribe(down.url, "global", events=["article.published"])
        api.subscribe(up.url, "global", events=["article.published"])
        port = down.port
        down.stop()  # connections refused from now on
        ids = []
        for n in range(20):
            r = api.post_article(cms_article("hooks", n), "application/json")
            assert r.status_code == 202, r.text
            ids.append(r.json()["id"])
        # the healthy receiver gets everything while the other is still down
        assert_one_webhook_id_each(up, ids)
        assert down.received == []

        def failed_twice() -> bool:
            rows = api.get(f"/subscriptions/{gone['id']}/deliveries", headers=api.auth).json()["deliveries"]
            return len(rows) == len(ids) and all(d["attempts"] >= 2 for d in rows)

        wait_for(failed_twice, 30, 0.2, what="two failed attempts per delivery to the receiver that is down")
        assert down.received == []
        down.start(port)
        assert_one_webhook_id_each(down, ids, timeout=90)
        assert_one_webhook_id_each(up, ids)
    finally:
        down.stop()
        up.stop()


def test_sigterm_finishes_or_requeues(
    stack: tuple[Api, Proc, Proc], env: dict[str, str], tmp_path: Path, restarted: list[Proc]
) -> None:
    api, worker, _ = stack

    def slow(n: int, _: object) -> tuple[int, dict[str, str], bytes]:
        time.sleep(0.5)
        return 200, {}, b"ok"

    receiver = Receiver(behaviour=slow).start()
    try:
        api.subscribe(receiver.url, "global", events=["article.published"])
        ids = []
        for n in range(12):
            r = api.post_article(cms_article("term", n), "application/json")
            assert r.status_code == 202, r.text
            ids.append(r.json()["id"])
        wait_for(lambda: receiver.received, 30, what="the worker busy with deliveries")
        assert worker.proc is not None
        os.kill(worker.proc.pid, signal.SIGTERM)  # to the main process, as `docker stop` does
        code = worker.proc.wait(60)
        assert code == 0, worker.tail()
        # warm shutdown: the tasks in hand ran to their end, none was cut off
        assert "WorkerLostError" not in worker.log.read_text(errors="replace")
        restarted.append(start_worker(env, tmp_path / "worker.log"))
        all_published(api, ids)
        assert_in_feed_once(api, ids)
        assert_one_webhook_id_each(receiver, ids)
    finally:
        receiver.stop()
