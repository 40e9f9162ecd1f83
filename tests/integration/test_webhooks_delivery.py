"""Webhook delivery on real parts: signatures, retries, 410, redirects, Retry-After, timeouts,
dead deliveries, replay, retention and the delivery log (HTTP and CLI).

One stack (Redis, a worker on threads as production's webhooks worker runs, the HTTP server)
serves the whole module with a compressed retry schedule: 4 attempts, 0.5 s apart. Each test
has its own receiver and its own section, so that it only sees its own events.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.support import (
    Api,
    Proc,
    Received,
    Receiver,
    RedisServer,
    base_env,
    free_port,
    start_web,
    start_worker,
    wait_for,
)
from tests.support import run_cli as cli

ATTEMPTS = 4  # the first attempt and the 3 retries of the schedule below
TIMEOUT = 1.5
Behaviour = Callable[[int, Received], tuple[int, dict[str, str], bytes]]


@dataclass
class Hooks:
    api: Api
    env: dict[str, str]
    worker: Proc


@pytest.fixture(scope="module")
def hooks(tmp_path_factory: pytest.TempPathFactory, redis_binary: str) -> Iterator[Hooks]:
    tmp = tmp_path_factory.mktemp("hooks")
    server = RedisServer(free_port(), tmp / "redis")
    server.start()
    port = free_port()
    env = base_env(
        server.url,
        SYNDICATE_WEBHOOK_RETRY_SCHEDULE="0.5,0.5,0.5",
        SYNDICATE_WEBHOOK_TIMEOUT=str(TIMEOUT),
        SYNDICATE_DELIVERY_RETENTION="4",
        SYNDICATE_BASE_URL=f"http://127.0.0.1:{port}",
    )
    worker = start_worker(env, tmp / "worker.log", concurrency=6, pool="threads")
    web = start_web(env, tmp / "web.log", port)
    try:
        yield Hooks(Api(port), env, worker)
    finally:
        web.stop()
        worker.stop()
        server.stop()


@pytest.fixture
def make_receiver() -> Iterator[Callable[[Behaviour], Receiver]]:
    started: list[Receiver] = []

    def make(behaviour: Behaviour) -> Receiver:
        r = Receiver(behaviour=behaviour).start()
        assert r.server is not None
        # An answer to a request the worker gave up on (timeout) meets a closed socket: expected.
        r.server.handle_error = lambda *_: None  # type: ignore[method-assign]
        started.append(r)
        return r

    yield make
    for r in started:
        r.stop()


def timed(behaviour: Behaviour, arrivals: list[float]) -> Behaviour:
    """``behaviour``, noting the receiver's clock at each request's arrival."""

    def run(n: int, rec: Received) -> tuple[int, dict[str, str], bytes]:
        arrivals.append(time.time())
        return behaviour(n, rec)

    return run


def post_article(api: Api, section: str, title: str | None = None) -> str:
    guid = uuid.uuid4().hex
    doc = {
        "guid": guid,
        "source": "example",
        "title": title or f"Webhook test {guid[:8]}",
        "section": section,
        "language": "en",
        "published_at": "2024-05-01T10:00:00Z",
        "body_html": f"<p>Paragraph one of {guid}.</p><p>Paragraph two.</p>",
    }
    r = api.post_article(json.dumps(doc), "application/json")
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


def subscribe(api: Api, url: str, section: str, **extra: Any) -> dict[str, Any]:
    return api.subscribe(url, "global", sections=[section], **extra)


def deliveries(api: Api, sub_id: str, **params: str) -> list[dict[str, Any]]:
    r = api.get(f"/subscriptions/{sub_id}/deliveries", headers=api.auth, params=params)
    assert r.status_code == 200, r.text
    return list(r.json()["deliveries"])


def final_delivery(api: Api, sub_id: str, count: int = 1) -> list[dict[str, Any]]:
    """Wait until ``count`` deliveries of ``sub_id`` are final (succeeded or dead)."""

    def done() -> list[dict[str, Any]] | None:
        rows = deliveries(api, sub_id)
        final = [d for d in rows if d["status"] in ("succeeded", "dead")]
        return rows if len(final) >= count else None

    return list(wait_for(done, 60, 0.2, what=f"{count} final deliveries of {sub_id}"))


def ok(_: int, __: Received) -> tuple[int, dict[str, str], bytes]:
    return 200, {}, b"ok"


def test_rotation_signs_with_both_secrets(
    hooks: Hooks, make_receiver: Callable[[Behaviour], Receiver]
) -> None:
    api = hooks.api
    receiver = make_receiver(ok)
    sub = subscribe(api, receiver.url, "hooks-rotate")
    old = sub["secret"]
    post_article(api, "hooks-rotate")
    first = wait_for(lambda: receiver.received and receiver.received[0], 30, what="first event")
    assert len(first.headers["webhook-signature"].split(" ")) == 1
    Webhook(old).verify(first.body, first.headers)

    r = requests.post(f"{api.base}/subscriptions/{sub['id']}/rotate-secret", headers=api.auth, timeout=10)
    assert r.status_code == 200, r.text
    new = r.json()["secret"]
    assert new.startswith("whsec_") and new != old
    assert "secret" not in api.get(f"/subscriptions/{sub['id']}", headers=api.auth).json()

    post_article(api, "hooks-rotate")
    second = wait_for(
        lambda: len(receiver.received) >= 2 and receiver.received[1], 30, what="event after rotation"
    )
    assert len(second.headers["webhook-signature"].split(" ")) == 2
    assert Webhook(new).verify(second.body, second.headers)["type"] == "article.published"
    assert Webhook(old).verify(second.body, second.headers)["type"] == "article.published"
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QUJD" * 8).verify(second.body, second.headers)


def test_fails_twice_then_succeeds(hooks: Hooks, make_receiver: Callable[[Behaviour], Receiver]) -> None:
    api = hooks.api
    arrivals: list[float] = []
    receiver = make_receiver(
        timed(lambda n, _: (500, {}, b"boom") if n <= 2 else (200, {}, b"thanks"), arrivals)
    )
    sub = subscribe(api, receiver.url, "hooks-flaky")
    aid = post_article(api, "hooks-flaky")
    [d] = final_delivery(api, sub["id"])
    assert (d["status"], d["attempts"], d["last_status_code"]) == ("succeeded", 3, 200)
    assert d["last_response"] == "thanks" and d["last_duration_ms"] is not None
    assert len(receiver.received) == 3
    assert {rec.headers["webhook-id"] for rec in receiver.received} == {d["webhook_id"]}
    for rec, arrived in zip(receiver.received, arrivals, strict=True):
        payload = Webhook(sub["secret"]).verify(rec.body, rec.headers)  # every attempt verifies
        assert payload["data"]["article"]["id"] == aid
        assert abs(int(rec.headers["webhook-timestamp"]) - arrived) < 3  # signed at each attempt
    assert len({rec.body for rec in receiver.received}) == 1  # the same bytes every time
    assert api.get(f"/subscriptions/{sub['id']}", headers=api.auth).json()["enabled"] is True


def test_410_disables_at_once_and_enable_brings_it_back(
    hooks: Hooks, make_receiver: Callable[[Behaviour], Receiver]
) -> None:
    api = hooks.api
    receiver = make_receiver(lambda n, _: (410, {}, b"gone") if n == 1 else (200, {}, b"ok"))
    sub = subscribe(api, receiver.url, "hooks-gone")
    post_article(api, "hooks-gone")
    [d] = final_delivery(api, sub["id"])
    assert (d["status"], d["attempts"], d["last_status_code"]) == ("dead", 1, 410)
    shown = api.get(f"/subscriptions/{sub['id']}", headers=api.auth).json()
    assert shown["enabled"] is False and "410" in shown["disabled_reason"]
    assert len(receiver.received) == 1

    r = cli(hooks.env, "subscriptions", "enable", sub["id"])
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["enabled"] is True
    post_article(api, "hooks-gone")
    rows = final_delivery(api, sub["id"], count=2)
    assert rows[0]["status"] == "succeeded"
    assert len(receiver.received) == 2


def test_redirect_is_not_followed(hooks: Hooks, make_receiver: Callable[[Behaviour], Receiver]) -> None:
    api = hooks.api
    target = make_receiver(ok)
    redirector = make_receiver(lambda n, _: (307, {"Location": target.url}, b""))
    sub = subscribe(api, redirector.url, "hooks-redirect")
    post_article(api, "hooks-redirect")
    [d] = final_delivery(api, sub["id"])
    assert (d["status"], d["attempts"], d["last_status_code"]) == ("dead", ATTEMPTS, 307)
    assert "not followed" in d["last_error"]
    assert len(redirector.received) == ATTEMPTS
    assert target.received == []


def test_retry_after_is_honoured(hooks: Hooks, make_receiver: Callable[[Behaviour], Receiver]) -> None:
    api = hooks.api
    arrivals: list[float] = []
    receiver = make_receiver(
        timed(
            lambda n, _: (429, {"Retry-After": "3"}, b"slow down") if n == 1 else (200, {}, b"ok"), arrivals
        )
    )
    sub = subscribe(api, receiver.url, "hooks-429")
    post_article(api, "hooks-429")
    [d] = final_delivery(api, sub["id"])
    assert (d["status"], d["attempts"]) == ("succeeded", 2)
    # The schedule alone would retry after about 0.5 s; Retry-After asks for 3 s at least.
    assert arrivals[1] - arrivals[0] >= 2.9
    first, second = (int(rec.headers["webhook-timestamp"]) for rec in receiver.received)
    assert second >= first + 2  # a fresh timestamp on the retry


def test_hang_past_the_timeout_ends_dead(
    hooks: Hooks, make_receiver: Callable[[Behaviour], Receiver]
) -> None:
    api = hooks.api
    release = threading.Event()

    def hang(n: int, _: Received) -> tuple[int, dict[str, str], bytes]:
        release.wait(TIMEOUT * 4)
        return 200, {}, b"too late"

    receiver = make_receiver(hang)
    sub = subscribe(api, receiver.url, "hooks-hang")
    try:
        post_article(api, "hooks-hang")
        [d] = final_delivery(api, sub["id"])
    finally:
        release.set()
    assert (d["status"], d["attempts"], d["last_status_code"]) == ("dead", ATTEMPTS, None)
    assert d["last_error"].startswith("timeout")
    assert len(receiver.received) == ATTEMPTS


def test_dead_delivery_is_listed_and_replayed_with_the_same_webhook_id(
    hooks: Hooks, make_receiver: Callable[[Behaviour], Receiver]
) -> None:
    api = hooks.api
    healthy = threading.Event()
    receiver = make_receiver(lambda n, _: (200, {}, b"ok") if healthy.is_set() else (500, {}, b"down"))
    sub = subscribe(api, receiver.url, "hooks-dead")
    post_article(api, "hooks-dead")
    [d] = final_delivery(api, sub["id"])
    assert (d["status"], d["attempts"], d["last_status_code"]) == ("dead", ATTEMPTS, 500)
    assert d["last_response"] == "down"
    assert [x["id"] for x in deliveries(api, sub["id"], status="dead")] == [d["id"]]
    assert deliveries(api, sub["id"], status="succeeded") == []
    r = cli(hooks.env, "deliveries", "--subscription", sub["id"], "--status", "dead", "--json")
    assert r.returncode == 0, r.stderr
    assert [x["id"] for x in json.loads(r.stdout)] == [d["id"]]

    healthy.set()
    r = requests.post(f"{api.base}/deliveries/{d['id']}/replay", headers=api.auth, timeout=10)
    assert r.status_code == 202, r.text
    assert r.json()["webhook_id"] == d["webhook_id"] and r.json()["replay_of"] == d["id"]
    wait_for(lambda: len(receiver.received) == ATTEMPTS + 1, 30, what="the replayed event")
    replayed = receiver.received[-1]
    assert replayed.headers["webhook-id"] == d["webhook_id"]
    Webhook(sub["secret"]).verify(replayed.body, replayed.headers)
    assert replayed.body == receiver.received[0].body

    # replay by range, from the command line
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 600))
    r = cli(hooks.env, "replay", "--subscription", sub["id"], "--since", since)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[1::2] == [d["webhook_id"]]  # one original in range: "<new id> <webhook-id>"
    wait_for(lambda: len(receiver.received) == ATTEMPTS + 2, 30, what="the range replay")
    assert receiver.received[-1].headers["webhook-id"] == d["webhook_id"]
    succeeded = final_delivery(api, sub["id"], count=3)
    assert sorted(x["status"] for x in succeeded) == ["dead", "succeeded", "succeeded"]


def test_delivery_log_keeps_the_retention_limit(
    hooks: Hooks, make_receiver: Callable[[Behaviour], Receiver]
) -> None:
    api = hooks.api
    receiver = make_receiver(ok)
    sub = subscribe(api, receiver.url, "hooks-retention")
    for _ in range(6):
        post_article(api, "hooks-retention")
    wait_for(lambda: len(receiver.received) == 6, 60, what="six events")
    rows = wait_for(lambda: len(r := deliveries(api, sub["id"])) == 4 and r, 30, what="log trimmed to 4")
    assert all(x["status"] == "succeeded" for x in rows)
    created = [x["created_at"] for x in rows]
    assert created == sorted(created, reverse=True)  # newest first
