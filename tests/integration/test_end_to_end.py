"""Issue 2's path, end to end on real parts: the seed text in, feeds and a signed webhook out."""

from __future__ import annotations

import re
from pathlib import Path

import feedparser
from standardwebhooks.webhooks import Webhook

from tests.support import Api, Proc, Receiver, wait_for

SEED = (Path(__file__).parent.parent / "data" / "rferl-nato-afghan-pullout.txt").read_text(encoding="utf-8")
TITLE = "NATO Chief Says Afghan Pullout Progressing In 'Orderly Way' Amid Continued Violence"
ASIDE = re.compile(r'<aside class="geo-notice" data-notice="rferl-undesirable-ru"[^>]*>')


def post_seed(api: Api) -> str:
    r = api.post_article(
        SEED,
        "text/plain",
        source="rferl",
        url="https://www.rferl.org/a/nato-afghanistan/31284386.html?utm_source=x",
        published_at="2021-06-01T18:40:00Z",
    )
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued"
    return str(r.json()["id"])


def test_seed_reaches_feeds_and_a_signed_webhook(stack: tuple[Api, Proc, Proc], receiver: Receiver) -> None:
    api, _, _ = stack
    sub = api.subscribe(receiver.url, "ru")
    assert sub["secret"].startswith("whsec_")
    aid = post_seed(api)
    article = api.wait_published(aid)
    assert article["article"]["title"] == TITLE
    assert article["article"]["url"] == "https://www.rferl.org/a/nato-afghanistan/31284386.html"

    # global: the article, without the notice
    atom = wait_for(
        lambda: (r := api.get("/feeds/global/all.atom")).ok and TITLE in r.text and r,
        20,
        what="article in the global atom feed",
    )
    assert atom.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert "geo-notice" not in atom.text and "undesirable" not in atom.text
    parsed = feedparser.parse(atom.content)
    assert [e.title for e in parsed.entries] == [TITLE]

    # ru: the article with exactly one notice aside
    rss = wait_for(
        lambda: (r := api.get("/feeds/ru/all.rss")).ok and TITLE in r.text and r,
        20,
        what="article in the ru rss feed",
    )
    assert rss.headers["content-type"] == "application/rss+xml; charset=utf-8"
    entries = feedparser.parse(rss.content).entries
    assert len(entries) == 1
    assert len(ASIDE.findall(rss.text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"'))) == 1

    # a webhook whose signature the standardwebhooks package verifies
    hook = wait_for(lambda: receiver.received and receiver.received[0], 20, what="a webhook")
    payload = Webhook(sub["secret"]).verify(hook.body, hook.headers)
    assert payload["type"] == "article.published"
    assert payload["data"]["audience"] == "ru"
    assert payload["data"]["article"]["id"] == aid
    assert [n["id"] for n in payload["data"]["article"]["notices"]] == ["rferl-undesirable-ru"]
    assert payload["data"]["article"]["body_html"].count('data-notice="rferl-undesirable-ru"') == 1


def test_json_feed_and_sections(stack: tuple[Api, Proc, Proc]) -> None:
    api, _, _ = stack
    aid = post_seed(api)
    api.wait_published(aid)
    r = wait_for(
        lambda: (x := api.get("/feeds/global/afghanistan-pakistan.json")).ok and x, 20, what="section feed"
    )
    assert r.headers["content-type"] == "application/feed+json"
    doc = r.json()
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert [i["title"] for i in doc["items"]] == [TITLE]
    assert api.get("/feeds/global/no-such-section.json").status_code == 404
    assert api.get("/feeds/nowhere/all.rss").json()["error"] == "not_found"


def test_cms_json_with_guid_is_published(stack: tuple[Api, Proc, Proc]) -> None:
    api, _, _ = stack
    doc = {
        "guid": "cms-1",
        "source": "rferl",
        "title": "Hello &amp; Welcome",
        "published_at": "2024-01-02T03:04:05+03:00",
        "body_html": "<p>First paragraph.</p><p>Second paragraph.</p>",
        "language": "en",
    }
    r = api.post_article(__import__("json").dumps(doc), "application/json")
    assert r.status_code == 202, r.text
    art = api.wait_published(r.json()["id"])["article"]
    assert art["title"] == "Hello & Welcome"
    assert art["published_at"] == "2024-01-02T00:04:05Z"
