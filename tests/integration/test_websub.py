"""WebSub as strict hubs want it: hub.topic and hub.url in the ping, Link headers on the feed,
no retry of a hub's 4xx (only 5xx and failures), and one log line for a refusing hub."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests

from tests.integration.test_end_to_end import post_seed
from tests.support import Api, free_port, serve_in_thread, start_web, start_worker, stop_server, wait_for


class StrictHub:
    """Like Flask-WebSub's hub: refuses a ping without hub.topic, then fetches the topic and
    refuses to distribute it unless its HTTP answer has Link rel="hub" (this hub) and rel="self"."""

    def __init__(self, status: int | None = None) -> None:
        self.pings: list[dict[str, list[str]]] = []
        self.accepted: list[str] = []
        self.problems: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
                form = parse_qs(body)
                outer.pings.append(form)
                self.send_response(status or outer.check(form))
                self.end_headers()

        self.server = serve_in_thread(Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hub"

    def check(self, form: dict[str, list[str]]) -> int:
        topic = (form.get("hub.topic") or [""])[0]
        if form.get("hub.mode") != ["publish"] or not topic:
            self.problems.append(f"no hub.topic in {form}")
            return 400
        r = requests.get(topic, timeout=10)
        links = requests.utils.parse_header_links(r.headers.get("link", ""))
        rels = {(link.get("rel"), link.get("url")) for link in links}
        if ("hub", self.url) not in rels or ("self", topic) not in rels:
            self.problems.append(f"{topic}: Link {r.headers.get('link')!r}")
            return 400
        self.accepted.append(topic)
        return 202


@pytest.fixture
def hubs(env: dict[str, str], tmp_path: Path) -> Iterator[tuple[Api, StrictHub, StrictHub, StrictHub, Path]]:
    strict, refusing, failing = StrictHub(), StrictHub(status=410), StrictHub(status=503)
    port = free_port()
    env.update(
        SYNDICATE_WEBSUB_HUBS=",".join(h.url for h in (strict, refusing, failing)),
        SYNDICATE_BASE_URL=f"http://127.0.0.1:{port}",
    )
    worker = start_worker(env, tmp_path / "worker.log")
    web = start_web(env, tmp_path / "web.log", port)
    try:
        yield Api(port), strict, refusing, failing, tmp_path / "worker.log"
    finally:
        web.stop()
        worker.stop()
        for h in (strict, refusing, failing):
            stop_server(h.server)


def test_strict_hub_accepts_every_ping_and_4xx_is_not_retried(
    hubs: tuple[Api, StrictHub, StrictHub, StrictHub, Path],
) -> None:
    api, strict, refusing, failing, worker_log = hubs
    api.wait_published(post_seed(api))
    topic = f"{api.base}/feeds/ru/all.atom"
    wait_for(lambda: topic in strict.accepted, 30, what="the strict hub distributing ru/all.atom")
    assert strict.problems == []
    for form in strict.pings:
        assert form["hub.topic"] == form["hub.url"]

    def per_url(hub: StrictHub) -> dict[str, int]:
        counts: dict[str, int] = {}
        for form in list(hub.pings):
            counts[form["hub.url"][0]] = counts.get(form["hub.url"][0], 0) + 1
        return counts

    # The same rounds reach each hub (it accepts them all: one ping per URL and round). A 4xx is
    # final: the refusing hub got exactly as many; a 5xx is tried again: 3 attempts in all.
    wait_for(
        lambda: (
            per_url(refusing) == per_url(strict)
            and per_url(failing) == {u: 3 * n for u, n in per_url(strict).items()}
        ),
        120,  # the 503 hub's retries back off 0.5 s then 1 s for each feed URL
        what="every round at the three hubs",
    )
    log = worker_log.read_text()
    refused = [line for line in log.splitlines() if f"websub hub {refusing.url} refused" in line]
    assert refused and all("HTTP 410 (not retried)" in line for line in refused)
    assert len(refused) < len(refusing.pings)  # once per hub and round, not once per ping


@pytest.mark.parametrize(
    ("path", "self_path", "hub"),
    [
        ("/feeds/global/all.rss", "/feeds/global/all.rss", True),
        ("/feeds/ru/all.json", "/feeds/ru/all.json", True),
        ("/feeds/all.atom", "/feeds/global/all.atom", True),  # the geo route: the document's self
    ],
)
def test_every_feed_answer_has_link_headers(
    hubs: tuple[Api, StrictHub, StrictHub, StrictHub, Path], path: str, self_path: str, hub: bool
) -> None:
    api, strict, *_ = hubs
    wait_for(lambda: api.get(path).ok, 30, what=path)
    answers = [api.get(path) for _ in range(3)]  # the routes, then the in-memory fast path
    answers.append(api.get(path, headers={"If-None-Match": answers[0].headers["etag"]}))
    assert answers[-1].status_code == 304
    for r in answers:
        links = {(x["rel"], x["url"]) for x in requests.utils.parse_header_links(r.headers["link"])}
        assert ("self", api.base + self_path) in links
        assert (("hub", strict.url) in links) is hub
