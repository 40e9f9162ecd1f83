"""Issue 5 over real HTTP: validators, conditional GET, gzip, HEAD, 404s, WebSub pings, export."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests

from tests.integration.test_end_to_end import TITLE, post_seed
from tests.support import Api, free_port, serve_in_thread, start_web, start_worker, wait_for


def _published(api: Api) -> requests.Response:
    api.wait_published(post_seed(api))
    return wait_for(lambda: (r := api.get("/feeds/global/all.rss")).ok and TITLE in r.text and r, 20)


def test_conditional_get_gzip_head(stack: tuple[Api, Any, Any]) -> None:
    api, _, _ = stack
    first = _published(api)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert first.headers["cache-control"].startswith("public, max-age=")
    assert api.get("/feeds/global/all.rss", headers={"If-None-Match": etag}).status_code == 304
    assert api.get("/feeds/global/all.rss", headers={"If-Modified-Since": modified}).status_code == 304
    assert api.get("/feeds/global/all.rss", headers={"If-None-Match": '"other"'}).status_code == 200
    raw = requests.get(
        api.base + "/feeds/global/all.rss", headers={"Accept-Encoding": "gzip"}, stream=True, timeout=10
    )
    assert raw.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw.raw.read()) == first.content  # the same bytes inside
    head = requests.head(api.base + "/feeds/global/all.rss", timeout=10)
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == etag
    # RFC 9110: a strong validator differs per content-coding; a 304 needs the tag of the coding
    # asked for (nginx's rule, so that the exported files behind nginx answer the same).
    plain = api.get("/feeds/global/all.rss", headers={"Accept-Encoding": "identity"})
    zipped = api.get("/feeds/global/all.rss", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers and zipped.headers["content-encoding"] == "gzip"
    assert plain.headers["etag"] != zipped.headers["etag"]
    assert not plain.headers["etag"].startswith("W/") and not zipped.headers["etag"].startswith("W/")
    for coding, expected in (("identity", plain.headers["etag"]), ("gzip", zipped.headers["etag"])):
        for tag in (plain.headers["etag"], zipped.headers["etag"]):
            r = api.get("/feeds/global/all.rss", headers={"Accept-Encoding": coding, "If-None-Match": tag})
            assert r.status_code == (304 if tag == expected else 200), (coding, tag)
            assert r.headers["etag"] == expected, (coding, tag)


@pytest.mark.parametrize(
    "path",
    ["/feeds/nowhere/all.rss", "/feeds/global/all.xml", "/feeds/global/no-section.atom", "/feeds/global/all"],
)
def test_unknown_feed_is_a_json_404(stack: tuple[Api, Any, Any], path: str) -> None:
    api, _, _ = stack
    r = api.get(path)
    assert r.status_code == 404
    assert r.json()["error"] == "not_found" and r.json()["detail"]


def test_unchanged_reingest_keeps_etag(stack: tuple[Api, Any, Any]) -> None:
    api, _, _ = stack
    first = _published(api)
    aid = post_seed(api)
    wait_for(lambda: api.article(aid)["status"] == "published", 20)
    again = api.get("/feeds/global/all.rss")
    assert again.headers["etag"] == first.headers["etag"]
    assert again.content == first.content


class Hub:
    def __init__(self) -> None:
        self.pings: list[dict[str, list[str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
                outer.pings.append(parse_qs(body))
                self.send_response(204)
                self.end_headers()

        self.server = serve_in_thread(Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hub"


@pytest.fixture
def hub_stack(env: dict[str, str], tmp_path: Path) -> Iterator[tuple[Api, Hub, Path]]:
    hub = Hub()
    port = free_port()
    env.update(SYNDICATE_WEBSUB_HUBS=hub.url, SYNDICATE_BASE_URL=f"http://127.0.0.1:{port}")
    worker = start_worker(env, tmp_path / "worker.log")
    web = start_web(env, tmp_path / "web.log", port)
    try:
        yield Api(port), hub, Path(env["SYNDICATE_EXPORT_DIR"])
    finally:
        web.stop()
        worker.stop()
        hub.server.shutdown()


def test_websub_ping_per_change_and_static_export(hub_stack: tuple[Api, Hub, Path]) -> None:
    api, hub, export = hub_stack
    feed_url = f"{api.base}/feeds/global/all.atom"

    def pings() -> int:
        return sum(1 for p in hub.pings if p.get("hub.url") == [feed_url])

    wait_for(lambda: pings() >= 1, 20, what="the ping for the first (empty) render at start-up")
    before = pings()
    first = _published(api)
    wait_for(
        lambda: sum(1 for p in hub.pings if p.get("hub.url") == [feed_url]) == before + 1,
        20,
        what="one ping for the change",
    )
    assert all(p["hub.mode"] == ["publish"] for p in hub.pings)
    assert hub.url in api.get("/feeds/global/all.atom").text  # rel=hub
    assert json.loads(api.get("/feeds/global/all.json").text)["hubs"][0]["url"] == hub.url
    # an unchanged re-ingest changes no bytes, so no new ping
    aid = post_seed(api)
    wait_for(lambda: api.article(aid)["status"] == "published", 20)
    assert pings() == before + 1
    exported = export / "feeds" / "global" / "all.rss"
    wait_for(exported.exists, 10, what="exported file")
    assert exported.read_bytes() == first.content
