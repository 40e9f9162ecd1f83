"""The payload cap holds for the whole event on a real worker and receiver (issue #14).

Normalization caps a title at 1,000 characters, so the cap here is small (2 KB) and the title is
900 Cyrillic letters (1,800 bytes): with its summary and tags the event is well over the cap even
without its body, which is what got through before (only ``body_html`` was dropped).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from tests.support import Api, Receiver, RedisServer, base_env, free_port, start_web, start_worker, wait_for

CAP = 2048


@pytest.fixture
def api(redis_server: RedisServer, tmp_path: Path) -> Iterator[Api]:
    port = free_port()
    env = base_env(
        redis_server.url,
        SYNDICATE_WEBHOOK_PAYLOAD_CAP=str(CAP),
        SYNDICATE_BASE_URL=f"http://127.0.0.1:{port}",
    )
    worker = start_worker(env, tmp_path / "worker.log")
    web = start_web(env, tmp_path / "web.log", port)
    try:
        yield Api(port)
    finally:
        web.stop()
        worker.stop()


def test_a_huge_title_article_webhook_is_under_the_cap(api: Api, receiver: Receiver) -> None:
    sub = api.subscribe(receiver.url, "ru")
    title = "Ж" * 900
    doc = {
        "guid": "payload-cap-1",
        "source": "rferl",
        "url": "https://www.rferl.org/a/payload-cap/1.html",
        "title": title,
        "summary": "Сводка " * 200,
        "tags": [f"тег {i}" for i in range(40)],
        "language": "ru",
        "published_at": "2026-01-10T12:00:00Z",
        "body_html": "<p>" + "Текст статьи. " * 3000 + "</p>",
    }
    r = api.post_article(json.dumps(doc), "application/json")
    assert r.status_code == 202, r.text
    aid = r.json()["id"]
    assert api.wait_published(aid)["status"] == "published"
    wait_for(lambda: receiver.received, 60, what="the webhook at the receiver")
    rec = receiver.received[0]
    assert len(rec.body) <= CAP, f"webhook body of {len(rec.body)} bytes over the {CAP}-byte cap"
    # What was cut is the body that was signed.
    event = Webhook(sub["secret"]).verify(rec.body, rec.headers)
    article = event["data"]["article"]
    assert event["data"]["truncated"][:3] == ["body_html", "body_text", "summary"]
    assert article["truncated"] is True and article["id"] == aid
    assert article["url"] == doc["url"] and title.startswith(article["title"].rstrip("…"))
    assert [n["id"] for n in article["notices"]] == ["rferl-undesirable-ru"]
