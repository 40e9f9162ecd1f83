"""ninjs in and out on real parts: a ninjs item posted to ``POST /articles`` reaches a ``format:
ninjs`` subscriber of the ru audience as a ninjs 3.1 document that validates against IPTC's
schema, with the legal notice in its HTML body exactly once; a JSON subscriber of the same
audience still gets the JSON article. Real redis-server, Celery worker, uvicorn and receivers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from tests.support import ROOT, Api, Proc, Receiver, ninjs_errors, run_cli, wait_for
from worker.config import load_config
from worker.webhooks.signing import signature

NOTICE = "rferl-undesirable-ru"
ITEM: dict[str, Any] = {
    "uri": "urn:newsml:rferl.org:20261202:ninjs-flow-1",
    "type": "text",
    "versionCreated": "2026-12-02T08:00:00Z",
    "pubStatus": "usable",
    "language": "en",
    "infoSources": [{"name": "RFE/RL", "role": "publisher"}],
    "headlines": [{"role": "main", "value": "Moscow court jails journalist"}],
    "by": "By Jane Doe and RFE/RL's Russian Service",
    "bodies": [
        {
            "role": "main",
            "contentType": "text/html",
            "value": "<html><head><title>HEAD</title></head><body><section><p>A Moscow court on Monday"
            " jailed a journalist for seven years.</p><p>Rights groups condemned the verdict.</p>"
            "</section></body></html>",
        }
    ],
    "associations": [
        {
            "name": "mainpicture",
            "uri": "urn:newsml:rferl.org:20261202:pic-1",
            "type": "picture",
            "by": "RFE/RL",
            "descriptions": [{"role": "caption", "value": "The courthouse."}],
            "renditions": [{"name": "web", "href": "https://gdb.rferl.org/pic-1.jpg", "width": 1200}],
        }
    ],
}


def notice_text() -> str:
    [notice] = [n for n in load_config(ROOT / "config").notices if n.id == NOTICE]
    return notice.texts["ru"].text


def test_a_ninjs_item_reaches_a_ninjs_subscriber_valid_with_the_notice_once(
    stack: tuple[Api, Proc, Proc], env: dict[str, str]
) -> None:
    api, _, _ = stack
    ninjs_rx, json_rx = Receiver().start(), Receiver().start()
    try:
        sub = api.subscribe(ninjs_rx.url, "ru", format="ninjs")
        assert sub["format"] == "ninjs"
        cli = run_cli(env, "subscriptions", "add", json_rx.url, "--audience", "ru", "--format", "json")
        assert cli.returncode == 0, cli.stderr
        r = api.post_article(json.dumps(ITEM), "application/json")
        assert r.status_code == 202, r.text
        aid = r.json()["id"]
        stored = api.wait_published(aid)["article"]
        assert stored["source"] == "rferl" and stored["title"] == "Moscow court jails journalist"
        assert stored["authors"] == ["Jane Doe", "RFE/RL's Russian Service"]

        wait_for(lambda: ninjs_rx.received and json_rx.received, 60, what="both subscribers served")
        [rec] = ninjs_rx.received
        stamp = int(rec.headers["webhook-timestamp"])
        expected = signature(sub["secret"], rec.headers["webhook-id"], stamp, rec.body)
        assert expected in rec.headers["webhook-signature"].split()  # signed as every event is
        event = rec.json()
        assert event["type"] == "article.published" and event["data"]["audience"] == "ru"
        doc = event["data"]["article"]
        assert ninjs_errors(doc) == []
        assert doc["pubStatus"] == "usable"
        assert doc["headlines"][0]["value"] == "Moscow court jails journalist"
        [body] = doc["bodies"]
        assert body["contentType"] == "text/html" and "seven years" in body["value"]
        assert "HEAD" not in body["value"] and "<section" not in body["value"]
        assert body["value"].count(f'data-notice="{NOTICE}"') == 1
        assert rec.body.decode().count(notice_text()) == 1  # exactly once in the whole event
        [picture] = doc["associations"]
        assert picture["renditions"][0]["href"] == "https://gdb.rferl.org/pic-1.jpg"

        plain = json_rx.received[0].json()["data"]["article"]
        assert plain["id"] == aid and "body_text" in plain  # the JSON article, as before
        assert [n["id"] for n in plain["notices"]] == [NOTICE]
    finally:
        ninjs_rx.stop()
        json_rx.stop()


def test_a_ninjs_item_missing_its_uri_is_refused_in_one_line(stack: tuple[Api, Proc, Proc]) -> None:
    api, _, _ = stack
    r = api.post_article(json.dumps({**ITEM, "uri": None}), "application/json")
    assert r.status_code == 422
    assert r.json()["detail"].startswith("ninjs: field 'uri' is missing")


def events_of(rx: Receiver, kind: str) -> list[dict[str, Any]]:
    with rx.lock:
        received = list(rx.received)
    return [e for e in (r.json() for r in received) if e["type"] == kind]


def test_the_life_cycle_of_a_ninjs_item_reaches_a_ninjs_subscriber(stack: tuple[Api, Proc, Proc]) -> None:
    """ninjs in to ninjs out through the life cycle: an embargoed item is held and then published
    with its ``embargoedUntil``; an update saying ``pubStatus: canceled`` withdraws it, and a
    killed item (``DELETE /articles/{id}``) goes out as ``canceled`` too; every document valid."""
    api, _, _ = stack
    rx = Receiver().start()
    try:
        api.subscribe(rx.url, "ru", format="ninjs")
        until = datetime.now(UTC) + timedelta(seconds=6)
        held = {**ITEM, "uri": f"{ITEM['uri']}-held", "embargoedUntil": until.strftime("%Y-%m-%dT%H:%M:%SZ")}
        r = api.post_article(json.dumps(held), "application/json")
        assert r.status_code == 202, r.text
        [published] = wait_for(lambda: events_of(rx, "article.published"), 60, what="out at the embargo")
        assert published["timestamp"] >= held["embargoedUntil"]  # not a moment before (same format)
        doc = published["data"]["article"]
        assert ninjs_errors(doc) == [] and doc["pubStatus"] == "usable"
        assert doc["embargoedUntil"] == held["embargoedUntil"]

        canceled = {**held, "pubStatus": "canceled", "versionCreated": "2026-12-02T09:00:00Z"}
        assert api.post_article(json.dumps(canceled), "application/json").status_code == 202
        [gone] = wait_for(lambda: events_of(rx, "article.withdrawn"), 60, what="withdrawn by pubStatus")
        assert ninjs_errors(gone["data"]["article"]) == []
        assert gone["data"]["article"]["pubStatus"] == "canceled"
        assert gone["data"]["article"]["uri"] == doc["uri"]

        r = api.post_article(json.dumps({**ITEM, "uri": f"{ITEM['uri']}-killed"}), "application/json")
        killed = r.json()["id"]
        wait_for(lambda: len(events_of(rx, "article.published")) == 2, 60, what="the second item out")
        assert requests.delete(f"{api.base}/articles/{killed}", headers=api.auth, timeout=10).ok
        wait_for(lambda: len(events_of(rx, "article.withdrawn")) == 2, 60, what="the killed item withdrawn")
        last = events_of(rx, "article.withdrawn")[-1]["data"]["article"]
        assert ninjs_errors(last) == [] and last["pubStatus"] == "canceled"
        assert {"role": "article-id", "value": killed} in last["altIds"]
    finally:
        rx.stop()
