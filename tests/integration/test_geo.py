"""Issue 4 end to end: the right notice, once, in the right places; withheld articles never leak."""

from __future__ import annotations

import http.client
import json
import re
from pathlib import Path

import pytest
from lxml import etree
from standardwebhooks.webhooks import Webhook

from tests.integration.test_end_to_end import TITLE, post_seed
from tests.support import Api, Proc, Receiver, free_port, start_web, start_worker, wait_for

NOTICE = 'data-notice="rferl-undesirable-ru"'
RU_TEXT = "Правительство России объявило RFE/RL «нежелательной организацией»."  # config/notices.yaml
GEO = ["CloudFront-Viewer-Country", "CloudFront-Viewer-Country-Region", "CF-IPCountry"]


def _feed_with(api: Api, path: str, text: str, headers: dict[str, str] | None = None) -> str:
    r = wait_for(
        lambda: (x := api.get(path, headers=headers or {})).ok and text in x.text and x,
        20,
        what=f"{text!r} in {path}",
    )
    return str(r.text)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"CloudFront-Viewer-Country": "UA", "CloudFront-Viewer-Country-Region": "43"}, "ru"),
        ({"CloudFront-Viewer-Country": "UA", "CloudFront-Viewer-Country-Region": "UA-43"}, "ru"),
        ({"CloudFront-Viewer-Country": "UA", "CloudFront-Viewer-Country-Region": "30"}, "global"),
        ({"CloudFront-Viewer-Country": "RU"}, "ru"),
        ({"CF-IPCountry": "RU"}, "ru"),
        ({"CF-IPCountry": "XX"}, "global"),
        ({}, "global"),
    ],
    ids=["crimea", "crimea-full-code", "kyiv", "russia-cloudfront", "russia-cloudflare", "unknown", "none"],
)
def test_audience_from_cdn_headers(
    stack: tuple[Api, Proc, Proc], headers: dict[str, str], expected: str
) -> None:
    api, _, _ = stack
    api.wait_published(post_seed(api))
    direct = _feed_with(api, f"/feeds/{expected}/all.json", TITLE)
    r = wait_for(lambda: (x := api.get("/feeds/all.json", headers=headers)).ok and TITLE in x.text and x, 20)
    assert r.text == direct  # the same bytes as the audience's own feed
    for name in GEO:
        assert name in r.headers["vary"]
    items = r.json()["items"]
    assert sum(i["content_html"].count(NOTICE) for i in items) == (1 if expected == "ru" else 0)


def _raw_get(api: Api, path: str, headers: list[tuple[str, str]]) -> tuple[int, dict[str, str], bytes]:
    """A GET with headers sent as given, repeats included (requests would merge them)."""
    conn = http.client.HTTPConnection("127.0.0.1", int(api.base.rsplit(":", 1)[1]), timeout=10)
    try:
        conn.putrequest("GET", path)
        for name, value in headers:
            conn.putheader(name, value)
        conn.endheaders()
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([("CF-IPCountry", "RU"), ("CF-IPCountry", "RU")], "global"),  # sent twice: not believed
        ([("CloudFront-Viewer-Country", "US"), ("CloudFront-Viewer-Country", "RU")], "global"),
        ([("CloudFront-Viewer-Country", "RU,US")], "global"),  # a list: not believed
        ([("CloudFront-Viewer-Country", "RU,US"), ("CF-IPCountry", "RU")], "ru"),  # the next header
        ([("CloudFront-Viewer-Country", "--"), ("CF-IPCountry", "RU")], "ru"),  # absent: falls through
        ([("CloudFront-Viewer-Country", "XX"), ("CF-IPCountry", "RU")], "ru"),
        ([("CloudFront-Viewer-Country", "UA"), ("CloudFront-Viewer-Country-Region", "43,30")], "global"),
    ],
    ids=["cf-twice", "cloudfront-twice", "list", "list-then-next", "dashes", "xx", "region-list"],
)
def test_untrustworthy_geo_headers_are_ignored_on_both_paths(
    stack: tuple[Api, Proc, Proc], headers: list[tuple[str, str]], expected: str
) -> None:
    api, _, web = stack
    api.wait_published(post_seed(api))
    direct = _feed_with(api, f"/feeds/{expected}/all.json", TITLE)
    _feed_with(api, "/feeds/global/all.json", TITLE)
    answers = [_raw_get(api, "/feeds/all.json", headers) for _ in range(3)]  # routes, then memory
    for status, got, body in answers:
        assert status == 200
        assert body.decode() == direct, expected
        assert got["cache-control"] == "private, max-age=60"  # the geo route: never a shared cache
    assert len({(tuple(sorted(h.items())), b) for _, h, b in answers if "date" not in h}) <= 1
    own = api.get(f"/feeds/{expected}/all.json")
    assert own.headers["cache-control"] == "public, max-age=60"
    if len({n for n, _ in headers}) < len(headers) or any("," in v for _, v in headers):
        assert "ignored: it holds 2 values" in web.log.read_text(), web.tail()
    assert "SYNDICATE_GEO_HEADERS is the default list" in web.log.read_text()


def test_notice_once_in_every_channel(stack: tuple[Api, Proc, Proc], receiver: Receiver) -> None:
    api, _, _ = stack
    ru = api.subscribe(receiver.url, "ru")
    glob = api.subscribe(receiver.url, "global")
    api.wait_published(post_seed(api))
    for fmt in ("rss", "atom"):
        ru_text = _feed_with(api, f"/feeds/ru/all.{fmt}", TITLE)
        contents, summaries = _item_texts(ru_text.encode(), fmt)
        assert [c.count(NOTICE) for c in contents] == [1], fmt
        assert all(NOTICE not in s for s in summaries)  # plain text in the summary
        assert [s.count(RU_TEXT) for s in summaries] == [1], fmt
        assert "rferl-undesirable-ru" in ru_text  # the machine-readable extension element
        global_text = _feed_with(api, f"/feeds/global/all.{fmt}", TITLE)
        assert "rferl-undesirable-ru" not in global_text and "undesirable" not in global_text
    ru_json = json.loads(_feed_with(api, "/feeds/ru/all.json", TITLE))
    assert [i["content_html"].count(NOTICE) for i in ru_json["items"]] == [1]
    assert [i["summary"].count(RU_TEXT) for i in ru_json["items"]] == [1]
    global_json = json.loads(_feed_with(api, "/feeds/global/all.json", TITLE))
    assert [RU_TEXT in i["summary"] for i in global_json["items"]] == [False]
    assert global_json["items"][0]["id"] != ru_json["items"][0]["id"]
    hooks = wait_for(lambda: len(receiver.received) >= 2 and receiver.received, 20, what="two webhooks")
    by_audience = {}
    for h in hooks:
        sub = ru if h.json()["data"]["audience"] == "ru" else glob
        by_audience[h.json()["data"]["audience"]] = Webhook(sub["secret"]).verify(h.body, h.headers)
    assert by_audience["ru"]["data"]["article"]["body_html"].count(NOTICE) == 1
    assert by_audience["ru"]["data"]["article"]["notices"][0]["language"] == "ru"
    assert NOTICE not in by_audience["global"]["data"]["article"]["body_html"]
    assert by_audience["global"]["data"]["article"]["notices"] == []


def _item_texts(xml: bytes, fmt: str) -> tuple[list[str], list[str]]:
    """Full contents and summaries of each item, unescaped (feedparser would strip data-*)."""
    root = etree.fromstring(xml)
    if fmt == "rss":
        ns = {"content": "http://purl.org/rss/1.0/modules/content/"}
        items = root.findall("./channel/item")
        return (
            [i.findtext("content:encoded", "", ns) for i in items],
            [i.findtext("description", "") for i in items],
        )
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = root.findall("a:entry", ns)
    return (
        [e.findtext("a:content", "", ns) for e in entries],
        [e.findtext("a:summary", "", ns) for e in entries],
    )


def _cms(restricted: list[str]) -> str:
    return json.dumps(
        {
            "guid": "restricted-1",
            "source": "rferl",
            "title": "A Story Withheld In Russia",
            "published_at": "2024-03-01T10:00:00Z",
            "language": "en",
            "section": "World",
            "body_html": "<p>Body of a story that must not reach readers in Russia.</p>",
            "restricted_regions": restricted,
        }
    )


def test_withheld_article_never_reaches_a_restricted_audience(
    stack: tuple[Api, Proc, Proc], receiver: Receiver
) -> None:
    api, _, _ = stack
    api.subscribe(receiver.url, "ru")
    r = api.post_article(_cms(["RU"]), "application/json")
    assert r.status_code == 202, r.text
    api.wait_published(r.json()["id"])
    global_rss = _feed_with(api, "/feeds/global/all.rss", "A Story Withheld")
    assert re.search(
        r'<media:restriction relationship="deny" type="country">ru</media:restriction>', global_rss
    )
    for fmt in ("rss", "atom", "json"):
        wait_for(lambda f=fmt: api.get(f"/feeds/ru/all.{f}").ok, 20)
        assert "A Story Withheld" not in api.get(f"/feeds/ru/all.{fmt}").text
        assert "A Story Withheld" not in api.get(f"/feeds/ru/world.{fmt}").text
    crimea = api.get(
        "/feeds/world.json",
        headers={"CloudFront-Viewer-Country": "UA", "CloudFront-Viewer-Country-Region": "43"},
    )
    assert crimea.ok and "A Story Withheld" not in crimea.text
    assert receiver.received == []  # the ru subscriber never hears of it


def test_restriction_added_later_withdraws(stack: tuple[Api, Proc, Proc], receiver: Receiver) -> None:
    api, _, _ = stack
    api.subscribe(receiver.url, "ru")
    aid = api.post_article(_cms([]), "application/json").json()["id"]
    api.wait_published(aid)
    _feed_with(api, "/feeds/ru/all.atom", "A Story Withheld")
    wait_for(lambda: len(receiver.received) == 1, 20, what="published event")
    assert api.post_article(_cms(["RU"]), "application/json").status_code == 202
    wait_for(lambda: len(receiver.received) == 2, 20, what="withdrawn event")
    assert receiver.received[1].json()["type"] == "article.withdrawn"
    assert receiver.received[1].json()["data"]["article"]["id"] == aid
    wait_for(lambda: "A Story Withheld" not in api.get("/feeds/ru/all.atom").text, 20, what="removal from ru")
    assert "A Story Withheld" in api.get("/feeds/global/all.atom").text


def test_strict_unknown_subdivision_leaves_out_what_a_subdivision_withholds(
    env: dict[str, str], tmp_path: Path
) -> None:
    """A Crimea reader whose CDN forwards only ``UA`` is not served what is withheld in UA-43."""
    port = free_port()
    env.update(SYNDICATE_BASE_URL=f"http://127.0.0.1:{port}", SYNDICATE_GEO_UNKNOWN_SUBDIVISION="strict")
    worker = start_worker(env, tmp_path / "worker.log")
    web = start_web(env, tmp_path / "web.log", port)
    api = Api(port)
    try:
        for guid, restricted in (("crimea-withheld", ["UA-43"]), ("everywhere", [])):
            doc = json.loads(_cms(restricted))
            doc.update(guid=guid, title=f"Strict case {guid}")
            r = api.post_article(json.dumps(doc), "application/json")
            assert r.status_code == 202, r.text
            api.wait_published(r.json()["id"])
        # "published" is the commit; the feed renders a moment later (the second article last)
        both = _feed_with(api, "/feeds/global/all.json", "Strict case everywhere")
        assert "Strict case crimea-withheld" in both  # the audience's own feed: as before
        only_ua = {"CloudFront-Viewer-Country": "UA"}
        text = _feed_with(api, "/feeds/all.json", "Strict case everywhere", only_ua)
        assert "Strict case crimea-withheld" not in text
        for _ in range(2):  # the routes, then the in-memory fast path: the same answer
            again = api.get("/feeds/all.json", headers=only_ua)
            assert again.text == text and again.headers["cache-control"].startswith("private")
        kyiv = api.get("/feeds/all.json", headers={**only_ua, "CloudFront-Viewer-Country-Region": "30"})
        assert kyiv.text == both  # a known subdivision that no audience claims: the global feed
        assert api.get("/feeds/all.json", headers={"CloudFront-Viewer-Country": "FR"}).text == both
    finally:
        web.stop()
        worker.stop()
