"""Issue 14, "no 500s from input": a number too long for Python is a clear 422; any exception in
a route is a JSON 500 whose error id the server's log line carries too (real uvicorn)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support import TOKEN, Proc, RedisServer, base_env, free_port, start_web, wait_for

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def web(redis_server: RedisServer, tmp_path: Path) -> Iterator[tuple[str, Proc]]:
    port = free_port()
    proc = start_web(base_env(redis_server.url), tmp_path / "web.log", port)
    yield f"http://127.0.0.1:{port}", proc
    proc.stop()


@pytest.mark.parametrize(
    "article",
    [
        {"guid": "n1", "title": "t", "body_text": "x", "published_at": "<5000 digits>"},
        {"guid": "n2", "title": "t", "body_text": "x", "image": {"width": "<5000 digits>"}},
        {"guid": "<5000 digits>", "title": "t", "body_text": "x"},
    ],
    ids=["published_at", "nested", "guid"],
)
def test_integer_of_5000_digits_is_a_422_naming_the_field(web: tuple[str, Proc], article: dict) -> None:
    base, _ = web
    body = json.dumps(article).replace('"<5000 digits>"', "9" * 5000)
    r = requests.post(
        base + "/articles", data=body, headers={**AUTH, "Content-Type": "application/json"}, timeout=30
    )
    assert r.status_code == 422, r.text
    doc = r.json()
    assert set(doc) == {"error", "detail"} and doc["error"] == "invalid_article"
    field = next(k for k, v in article.items() if "5000" in json.dumps(v))
    assert field in doc["detail"] and "5000 digits" in doc["detail"] and "4300" in doc["detail"]


def test_exception_in_a_route_is_a_json_500_with_an_error_id_in_the_log(
    web: tuple[str, Proc], redis_server: RedisServer
) -> None:
    """A subscription record that is not JSON (a bad migration, a hand edit) makes the route
    raise: the client gets JSON with an error id, the log has the same id and the traceback."""
    base, proc = web
    r = redis_server.client()
    r.set("syn:sub:sub_broken", b"{not json")
    r.sadd("syn:subs", "sub_broken")
    answer = requests.get(base + "/subscriptions/sub_broken", headers=AUTH, timeout=10)
    assert answer.status_code == 500
    assert answer.headers["content-type"].startswith("application/json")
    doc = answer.json()
    assert doc["error"] == "internal" and doc["error_id"] in doc["detail"]
    assert "{not json" not in answer.text  # no internals in the answer

    def logged() -> dict | None:
        for line in proc.log.read_text(errors="replace").splitlines():
            if doc["error_id"] in line and line.startswith("{"):
                return dict(json.loads(line))
        return None

    entry = wait_for(logged, 10, what="the log line with the error id")
    assert entry["level"] == "error" and entry["error_id"] == doc["error_id"]
    assert "/subscriptions/sub_broken" in entry["msg"] and "Traceback" in entry["exc"]
    # the server goes on answering, and the listing fails the same way, never as plain text
    listing = requests.get(base + "/subscriptions", headers=AUTH, timeout=10)
    assert listing.status_code == 500 and listing.json()["error_id"] != doc["error_id"]
    assert requests.get(base + "/healthz", timeout=10).ok
