"""Issue 16 in the channels: structured content and the lead image in RSS, Atom, JSON Feed and webhooks.

Every feed is checked by its schema (Atom RELAX NG, JSON Feed JSON Schema) and parsed back; the
golden files ``tests/data/feeds/media.*`` are regenerated with ``UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from feeds.ext import MEDIA_NS
from feeds.meta import FeedFormat
from feeds.render import render
from tests.unit.test_feeds_render import (
    ATOM_NS,
    NOTICE_ASIDE,
    RU_NOTICE,
    assert_atom_valid,
    assert_json_valid,
    contents,
    make_article,
    meta_for,
)
from worker.events import event_body
from worker.models import Article, AudienceArticle, LeadImage

DATA = Path(__file__).parent.parent / "data" / "feeds"
FORMATS: tuple[FeedFormat, ...] = ("rss", "atom", "json")
IMAGE = LeadImage(
    url="https://www.rferl.org/img/lead.jpg",
    alt="A flooded road",
    caption="Water covers the road near Termez.",
    credit="RFE/RL / Jane Doe",
    width=1200,
    height=675,
    type="image/jpeg",
)
BODY = (
    '<p>The <a href="https://www.rferl.org/a/river.html">river</a> rose <strong>two meters</strong>.</p>\n'
    "<h2>Villages</h2>\n<ul><li>Angor</li><li>Termez</li></ul>\n"
    "<blockquote><p>“The water came at night.”</p></blockquote>\n"
    '<figure><img src="https://www.rferl.org/img/boat.jpg" alt="A boat" width="800" height="450">'
    "<figcaption>Rescuers by boat.</figcaption></figure>"
)
TEXT = (
    "The river rose two meters.\n\nVillages\n\nAngor\n\nTermez\n\n"
    "“The water came at night.”\n\nRescuers by boat."
)
STRUCTURE = ('<a href="https://www.rferl.org/a/river.html">river</a>', "<h2>Villages</h2>", "<li>Angor</li>",
             "<blockquote>", '<img src="https://www.rferl.org/img/boat.jpg"', "<figcaption>")  # fmt: skip


def rich(image: LeadImage | None = IMAGE) -> Article:
    return make_article(1, body_html=BODY, body_text=TEXT, image=image)


def items(audience: str, *articles: Article) -> list[AudienceArticle]:
    notices = [RU_NOTICE] if audience == "ru" else []
    return [AudienceArticle(audience=audience, article=a, notices=notices) for a in articles]


@pytest.mark.parametrize("audience", ["ru", "global"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_structure_kept_and_notice_once(fmt: FeedFormat, audience: str) -> None:
    data = render(fmt, meta_for(audience), items(audience, rich()))
    (html,) = contents(fmt, data)
    for piece in STRUCTURE:
        assert piece in html, piece
    assert html.count(NOTICE_ASIDE) == (1 if audience == "ru" else 0)
    if fmt == "json":
        assert_json_valid(data)
        (item,) = json.loads(data)["items"]
        assert item["image"] == IMAGE.url
        assert "<" not in item["content_text"] and TEXT in item["content_text"]
    elif fmt == "atom":
        assert_atom_valid(data)


@pytest.mark.parametrize("audience", ["ru", "global"])
def test_rss_media_elements(audience: str) -> None:
    data = render("rss", meta_for(audience), items(audience, rich()))
    item = etree.fromstring(data).find("channel/item")
    assert item is not None
    (media,) = item.findall(f"{{{MEDIA_NS}}}content")
    assert dict(media.attrib) == {
        "url": IMAGE.url, "medium": "image", "type": "image/jpeg", "width": "1200", "height": "675",
    }  # fmt: skip
    assert media.findtext(f"{{{MEDIA_NS}}}description") == IMAGE.caption
    assert media.find(f"{{{MEDIA_NS}}}description").get("type") == "plain"
    assert media.findtext(f"{{{MEDIA_NS}}}credit") == IMAGE.credit
    (thumb,) = item.findall(f"{{{MEDIA_NS}}}thumbnail")
    assert dict(thumb.attrib) == {"url": IMAGE.url, "width": "1200", "height": "675"}
    assert item.find("enclosure") is None  # RSS enclosure needs a length we do not know
    entry = feedparser.parse(data).entries[0]
    assert not feedparser.parse(data).bozo
    assert entry.media_content[0]["url"] == IMAGE.url
    assert entry.media_thumbnail[0]["url"] == IMAGE.url


def test_atom_enclosure_link() -> None:
    data = render("atom", meta_for("ru"), items("ru", rich()))
    assert_atom_valid(data)
    entry = etree.fromstring(data).find(f"{{{ATOM_NS}}}entry")
    links = [dict(link.attrib) for link in entry.findall(f"{{{ATOM_NS}}}link")]
    assert {"href": IMAGE.url, "rel": "enclosure", "type": "image/jpeg"} in links
    assert feedparser.parse(data).entries[0].enclosures[0]["href"] == IMAGE.url


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_image_no_media(fmt: FeedFormat) -> None:
    data = render(fmt, meta_for("ru"), items("ru", rich(image=None)))
    if fmt == "json":
        assert_json_valid(data)
        assert "image" not in json.loads(data)["items"][0]
        return
    assert MEDIA_NS.encode() not in data or b"media:content" not in data
    assert b'rel="enclosure"' not in data
    if fmt == "atom":
        assert_atom_valid(data)


def test_image_with_only_a_url() -> None:
    bare = rich(image=LeadImage(url="https://www.rferl.org/img/x"))
    rss = etree.fromstring(render("rss", meta_for("ru"), items("ru", bare))).find("channel/item")
    media = rss.find(f"{{{MEDIA_NS}}}content")
    assert dict(media.attrib) == {"url": "https://www.rferl.org/img/x", "medium": "image"}
    assert len(media) == 0
    atom = render("atom", meta_for("ru"), items("ru", bare))
    assert_atom_valid(atom)
    assert b'<link href="https://www.rferl.org/img/x" rel="enclosure"/>' in atom


@pytest.mark.parametrize("audience", ["ru", "global"])
def test_webhook_carries_image_and_structure(audience: str) -> None:
    (view,) = items(audience, rich())
    body = json.loads(
        event_body("article.published", view, datetime(2024, 1, 1, tzinfo=UTC), payload_cap=1 << 20)
    )
    article = body["data"]["article"]
    assert article["image"] == IMAGE.model_dump()
    for piece in STRUCTURE:
        assert piece in article["body_html"]
    assert article["body_html"].count(NOTICE_ASIDE) == (1 if audience == "ru" else 0)
    assert article["body_text"] == TEXT


@pytest.mark.parametrize("fmt", FORMATS)
def test_media_golden(fmt: FeedFormat) -> None:
    path = DATA / f"media.{fmt}"
    data = render(fmt, meta_for("ru"), items("ru", rich(), make_article(2)))
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_bytes(data)
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1 to write it"
    assert data == path.read_bytes(), f"{path.name} differs: check the change, then UPDATE_GOLDEN=1"
