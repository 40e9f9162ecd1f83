"""Bad input over HTTP gets a clear 4xx JSON error, never a 5xx; bad input behind HTTP is
dead-lettered with its reason; HTML in an article cannot break out of a feed."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import feedparser
import pytest
import requests

from tests.support import (
    ROOT,
    TOKEN,
    Api,
    Proc,
    RedisServer,
    base_env,
    free_port,
    start_web,
    start_worker,
    wait_for,
)

LIMIT = 4096
ARTICLE = {"guid": "bad-input-1", "source": "faultline", "title": "A title", "body_text": "Some text."}


Stack = tuple[Api, Proc, Proc]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, redis_binary: str) -> Iterator[dict[str, str]]:
    """One Redis for the module: these tests only read what they wrote themselves."""
    folder = tmp_path_factory.mktemp("bad-input")
    server = RedisServer(free_port(), folder / "redis")
    server.start()
    yield base_env(server.url, SYNDICATE_MAX_BODY_BYTES=str(LIMIT), SYNDICATE_LOG_DIR=str(folder))
    server.stop()


@pytest.fixture(scope="module")
def stack(env: dict[str, str]) -> Iterator[Stack]:
    """A worker and the HTTP server, shared by the module (starting them is the slow part)."""
    folder = __import__("pathlib").Path(env["SYNDICATE_LOG_DIR"])
    port = free_port()
    env["SYNDICATE_BASE_URL"] = f"http://127.0.0.1:{port}"
    worker = start_worker(env, folder / "worker.log")
    web = start_web(env, folder / "web.log", port)
    yield Api(port), worker, web
    web.stop()
    worker.stop()


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def chunks(total: int) -> Iterator[bytes]:
    """A body sent chunked (no Content-Length): only counting can find it too large."""
    for _ in range(total // 1024):
        yield b"x" * 1024


AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON = {**AUTH, "Content-Type": "application/json"}
CASES = [
    ("no token", {"Content-Type": "application/json"}, json.dumps(ARTICLE), 401, "unauthorized"),
    ("wrong token", {**JSON, "Authorization": "Bearer sekrit-guess-42"}, json.dumps(ARTICLE), 401, None),
    ("basic auth", {**JSON, "Authorization": "Basic dGVzdDp0ZXN0"}, json.dumps(ARTICLE), 401, None),
    ("broken json", JSON, '{"title": "x",', 400, "malformed_json"),
    ("json nested too deeply", JSON, b"[" * 3000, 400, "malformed_json"),
    ("json without title", JSON, json.dumps({"guid": "t", "body_text": "text"}), 422, "invalid_article"),
    ("json array", JSON, "[1, 2]", 422, "invalid_article"),
    ("json title of wrong type", JSON, json.dumps({**ARTICLE, "title": {"a": 1}}), 422, "invalid_article"),
    ("unknown content type", {**AUTH, "Content-Type": "application/xml"}, "<a/>", 415, None),
    ("no content type", AUTH, "text", 415, "unsupported_media_type"),
    ("invalid utf-8 json", JSON, b'{"title": "\xff\xfe"}', 422, "invalid_encoding"),
    (
        "invalid utf-8 text",
        {**AUTH, "Content-Type": "text/plain"},
        b"T\xc3\x28 body",
        422,
        "invalid_encoding",
    ),
    ("empty text", {**AUTH, "Content-Type": "text/plain"}, "", 422, "invalid_article"),
    ("empty html", {**AUTH, "Content-Type": "text/html"}, "<html></html>", 422, "invalid_article"),
    ("over the limit", JSON, b"x" * (LIMIT + 1), 413, "too_large"),
    ("over the limit, chunked", JSON, chunks(LIMIT * 4), 413, "too_large"),
]


@pytest.mark.parametrize(
    ("headers", "body", "status", "error"),
    [pytest.param(h, b, s, e, id=name) for name, h, b, s, e in CASES],
)
def test_bad_article_gets_a_json_4xx(
    stack: Stack, headers: dict[str, str], body: object, status: int, error: str | None
) -> None:
    api, _, _ = stack
    r = requests.post(api.base + "/articles", data=body, headers=headers, timeout=10)
    assert r.status_code == status, r.text
    doc = r.json()
    assert set(doc) == {"error", "detail"} and doc["detail"]
    if error:
        assert doc["error"] == error
    assert "sekrit-guess-42" not in r.text and TOKEN not in r.text


def raw_request(port: int, head: str, body: bytes) -> tuple[int, bytes]:
    """Send a request by hand (requests would correct a lying Content-Length)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head.encode() + b"\r\n\r\n" + body)
        data = b""
        while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < 2:
            part = s.recv(65536)
            if not part:
                break
            data += part
    head_bytes, _, rest = data.partition(b"\r\n\r\n")
    return int(head_bytes.split()[1]), rest


@pytest.mark.parametrize("path", ["/articles", "/subscriptions"])
def test_huge_content_length_is_refused_before_reading(stack: Stack, path: str) -> None:
    api, _, _ = stack
    port = int(api.base.rsplit(":", 1)[1])
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
        "Content-Type: application/json\r\nContent-Length: 50000000000"
    )
    # the server answers with only 10 bytes of the promised 50 GB sent: it never waited for the rest
    status, body = raw_request(port, head, b'{"title": ')
    assert status == 413
    assert json.loads(body[body.index(b"{") : body.rindex(b"}") + 1])["error"] == "too_large"


def test_other_write_routes_have_size_limits_and_json_errors(stack: Stack) -> None:
    api, _, _ = stack
    big = {"url": "http://127.0.0.1:9/hook", "audience": "global", "events": ["article.published"] * 2000}
    for path in ("/subscriptions", "/deliveries/dlv_x/replay"):
        r = requests.post(api.base + path, json=big, headers=AUTH, timeout=10)
        assert r.status_code == 413, (path, r.text)
        assert r.json()["error"] == "too_large"
    r = requests.post(api.base + "/subscriptions", data=nested(1000), headers=JSON, timeout=10)
    assert 400 <= r.status_code < 500 and set(r.json()) == {"error", "detail"}
    r = requests.post(api.base + "/subscriptions", json={"url": 5}, headers=AUTH, timeout=10)
    assert r.status_code == 422 and set(r.json()) == {"error", "detail"}
    for method, path in [("GET", "/no/such/route"), ("PUT", "/articles"), ("GET", "/articles/nope")]:
        r = requests.request(method, api.base + path, headers=AUTH, timeout=10)
        assert r.status_code in (404, 405), r.text
        assert set(r.json()) == {"error", "detail"}


def test_secrets_never_echoed(stack: Stack) -> None:
    api, _, _ = stack
    sub = api.subscribe("http://127.0.0.1:9/hook", "global")
    secret = sub["secret"]
    for path in ("/subscriptions", f"/subscriptions/{sub['id']}", f"/subscriptions/{sub['id']}/deliveries"):
        r = api.get(path, headers=AUTH)
        assert r.ok and secret not in r.text and secret.removeprefix("whsec_") not in r.text
    rotated = requests.post(f"{api.base}/subscriptions/{sub['id']}/rotate-secret", headers=AUTH, timeout=10)
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] not in api.get(f"/subscriptions/{sub['id']}", headers=AUTH).text


def test_worker_side_failure_is_dead_lettered(stack: Stack, env: dict[str, str]) -> None:
    """Input that reaches the ``syndicate.accept`` task and fails there lands in the dead letters."""
    sender = (
        "import sys, json\n"
        "from worker.tasks import accept\n"
        "for raw in json.loads(sys.argv[1]):\n"
        "    accept.delay(raw, 'fault-test')\n"
    )
    bad = [
        {"format": "json", "body": json.dumps({"guid": "no-title", "body_text": "x"})},
        {"format": "json", "body": "{broken"},
        {"format": "yaml", "body": "title: x"},
        {"body": "no format at all"},
    ]
    subprocess.run([sys.executable, "-c", sender, json.dumps(bad)], env=env, cwd=ROOT, check=True, timeout=60)

    def letters() -> list[dict[str, object]]:
        out = subprocess.run(
            [sys.executable, "-m", "worker.cli", "dead-letters", "--json"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        rows: list[dict[str, object]] = json.loads(out.stdout)
        return rows if len([r for r in rows if r["origin"] == "fault-test"]) >= len(bad) else []

    rows = wait_for(letters, 60, 0.5, what="four dead letters")
    reasons = [str(r["reason"]) for r in rows if r["origin"] == "fault-test"]
    assert len(reasons) == len(bad) and all(reasons)
    assert any("title" in r for r in reasons), reasons
    assert any("json" in r.lower() for r in reasons), reasons
    inputs = [r["input"] for r in rows if r["origin"] == "fault-test"]
    assert {"body": "no format at all"} in inputs


HOSTILE_TITLE = "Breakout ]]></title><script>alert(1)</script> & </item> done"
HOSTILE_BODY = (
    "<p>Start ]]></content:encoded><script>alert('x')</script><![CDATA[ more</p>"
    '<p><img src=x onerror=alert(2)> </entry></feed> "quotes" \u2028 end</p>'
    '<p><a href="javascript:alert(3)">link</a><style>body{}</style></p>'
)


def test_html_cannot_break_out_of_feeds(stack: Stack) -> None:
    api, _, _ = stack
    doc = {"guid": "hostile-1", "source": "faultline", "title": HOSTILE_TITLE, "body_html": HOSTILE_BODY}
    r = api.post_article(json.dumps(doc), "application/json")
    assert r.status_code == 202, r.text
    api.wait_published(r.json()["id"])
    for fmt in ("rss", "atom"):
        feed = wait_for(
            lambda f=fmt: (x := api.get(f"/feeds/global/all.{f}")).ok and "Breakout" in x.text and x,
            30,
            what=f"article in the {fmt} feed",
        )
        ET.fromstring(feed.content)  # still well-formed XML
        parsed = feedparser.parse(feed.content)
        assert not parsed.bozo, parsed.bozo_exception
        assert len(parsed.entries) == 1
        assert parsed.entries[0].title.startswith("Breakout")
        lowered = feed.text.lower()
        for needle in ("<script", "onerror", "javascript:", "<style"):
            assert needle not in lowered, (fmt, needle)
    feed = api.get("/feeds/global/all.json").json()
    assert len(feed["items"]) == 1
    item = feed["items"][0]
    assert item["title"].startswith("Breakout")
    html = item["content_html"].lower()
    for needle in ("<script", "onerror", "javascript:", "<style"):
        assert needle not in html, needle
