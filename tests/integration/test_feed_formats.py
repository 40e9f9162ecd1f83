"""A feed format is one registry entry: one registered only here is rendered, stored, served over
HTTP, exported and pinged, with nothing else in the project told about it.

Real parts: redis-server, the publish pass in this process (what a worker's task runs), uvicorn
serving the application on 127.0.0.1, and an HTTP hub on 127.0.0.1.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import uvicorn

from feeds import formats
from feeds.meta import FeedMeta
from tests.support import RedisServer, base_env, free_port, serve_in_thread, stop_server, wait_for
from worker import pipeline, publish
from worker.models import AudienceArticle, RawInput
from worker.runtime import Runtime
from worker.settings import Settings
from worker.web.app import create_server

MEDIA_TYPE = "text/plain; charset=utf-8"


def render_titles(meta: FeedMeta, items: Sequence[AudienceArticle]) -> bytes:
    """The smallest feed format: its own URL, then one title per line."""
    lines = [meta.url("titles"), *(item.article.title for item in items)]
    return ("\n".join(lines) + "\n").encode()


class Quiet:
    """A nudger that sends nothing: the test runs each stage itself."""

    def ingest(self, article_ids: list[str]) -> None: ...
    def publish(self) -> None: ...
    def deliver(self, delivery_ids: list[str]) -> None: ...
    def poll(self, source_ids: list[str]) -> None: ...


@pytest.fixture
def titles_format() -> Iterator[formats.Format]:
    fmt = formats.register(formats.Format("titles", MEDIA_TYPE, render_titles, extension="txt"))
    try:
        yield fmt
    finally:
        formats.unregister("titles")


@pytest.fixture
def hub() -> Iterator[tuple[str, list[str]]]:
    topics: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def do_POST(self) -> None:
            form = parse_qs(self.rfile.read(int(self.headers.get("content-length", 0))).decode())
            topics.extend(form.get("hub.topic", []))
            self.send_response(204)
            self.end_headers()

    server = serve_in_thread(Handler)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hub", topics
    finally:
        stop_server(server)


def test_a_format_registered_only_in_the_registry_is_everywhere(
    titles_format: formats.Format,
    redis_server: RedisServer,
    hub: tuple[str, list[str]],
    tmp_path: Path,
) -> None:
    hub_url, topics = hub
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = base_env(
        redis_server.url,
        SYNDICATE_EXPORT_DIR=str(tmp_path / "export"),
        SYNDICATE_BASE_URL=base,
        SYNDICATE_WEBSUB_HUBS=hub_url,
    )
    rt = Runtime.build(Settings.from_env(env))
    raw = RawInput(
        format="json",
        body='{"guid": "g1", "source": "formats", "title": "A plain title", "section": "World",'
        ' "body_text": "Text."}',
    )
    article = pipeline.accept(rt, raw)
    assert pipeline.ingest(rt, article.id, Quiet()).startswith("version")

    changed = publish.publish(rt)
    assert "global/all" in changed

    # rendered and stored, beside the built-in formats
    stored = rt.store.feed("global/all", "titles")
    assert stored is not None and b"A plain title" in stored.body
    assert stored.body.startswith(f"{base}/feeds/global/all.txt\n".encode())
    # exported under the format's own extension
    exported = tmp_path / "export" / "feeds" / "global" / "world.txt"
    assert exported.read_bytes().splitlines()[1] == b"A plain title"
    # pinged: the hub heard of its URL too
    assert f"{base}/feeds/global/world.txt" in topics and f"{base}/feeds/global/world.rss" in topics

    # served over HTTP with its media type, through the fast path and through the routes
    server = uvicorn.Server(
        uvicorn.Config(create_server(rt, Quiet()), "127.0.0.1", port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, 30, what="uvicorn")
        for _ in range(2):  # the first answer reads Redis, the second comes from the feed cache
            r = requests.get(f"{base}/feeds/global/world.txt", timeout=10)
            assert r.status_code == 200, r.text
            assert r.headers["content-type"] == MEDIA_TYPE
            assert r.text.splitlines()[1] == "A plain title"
        missing = requests.get(f"{base}/feeds/global/world.xml", timeout=10)
        assert missing.status_code == 404 and "SECTION.txt" in missing.json()["detail"]
    finally:
        server.should_exit = True
        thread.join(10)
