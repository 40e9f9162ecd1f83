"""Feed entries (RSS 2.0, Atom, RSS 1.0) become CMS JSON and then articles; pure, no Redis."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import pytest

from worker.fetch import decode_html
from worker.models import Article, RawInput
from worker.normalize import normalize
from worker.poller import entry_document

DATA = Path(__file__).parent.parent / "data" / "poller"


def articles(name: str, publisher: str = "rferl") -> list[Article]:
    parsed = feedparser.parse((DATA / name).read_bytes())
    assert parsed.entries, f"{name} did not parse: {parsed.get('bozo_exception')}"
    language = parsed.feed.get("language")
    docs = [entry_document(e, publisher, language) for e in parsed.entries]
    return [normalize(RawInput(format="json", body=json.dumps(d))) for d in docs]


def test_rss2_items_keep_guid_dates_authors_and_content_encoded() -> None:
    first, second = articles("rss2.xml")
    assert first.title == "Talks Resume In Geneva & Vienna"
    assert first.url == "https://www.rferl.org/a/talks-resume/31000001.html"
    assert first.published_at is not None and first.published_at.isoformat() == "2021-06-01T15:40:00+00:00"
    assert first.authors == ["Jane Doe"]
    assert first.tags == ["World"]
    assert first.language == "en-US"
    assert first.body_text.startswith("Negotiators met again on Tuesday in Geneva")
    assert "Vienna next month" in first.body_text
    assert first.summary == "Negotiators met again on Tuesday."
    # no guid: the link is the identity; the description stands in for the body
    assert "Only a description here" in second.body_text
    assert second.id != first.id


def test_rss2_identity_is_stable_across_polls() -> None:
    assert [a.id for a in articles("rss2.xml")] == [a.id for a in articles("rss2.xml")]
    assert articles("rss2.xml")[0].id != articles("rss2.xml", publisher="other")[0].id


def test_atom_html_title_loses_markup_and_updated_only_entry_gets_a_date() -> None:
    first, second = articles("atom.xml", publisher="example")
    assert first.title == "Rates rise & markets wobble"
    assert first.authors == ["Ann Analyst", "Bo Banker"]
    assert first.published_at is not None and first.published_at.isoformat() == "2021-06-03T09:00:00+00:00"
    assert first.updated_at is not None and first.updated_at.isoformat() == "2021-06-03T11:30:00+00:00"
    assert first.body_text == (
        "The central bank raised its key rate by half a point on Thursday.\n\nMarkets fell in early trading."
    )
    assert first.language == "ru"  # the feed's xml:lang
    assert second.published_at is not None and second.published_at.isoformat() == "2021-06-03T10:00:00+00:00"
    assert second.body_text.startswith("A plain text body")


def test_rss1_items_use_dc_date_and_creator() -> None:
    (item,) = articles("rss1.xml", publisher="old")
    assert item.title == "Bridge Reopens After Repairs"
    assert item.url == "https://old.example.org/story/7"
    assert item.published_at is not None and item.published_at.isoformat() == "2021-06-04T07:15:00+00:00"
    assert item.authors == ["Carl Reporter"]
    assert item.source == "old"


def test_plain_text_title_stays_literal() -> None:
    feed = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:t</id>'
        b'<entry><title type="text">Fish &amp;amp; chips &lt;3</title><id>urn:e</id>'
        b"<updated>2021-06-03T10:00:00Z</updated><content>Some body text for the item.</content>"
        b"</entry></feed>"
    )
    (entry,) = feedparser.parse(feed).entries
    article = normalize(RawInput(format="json", body=json.dumps(entry_document(entry, "p"))))
    assert article.title == "Fish &amp; chips <3"
    assert article.url is None  # an Atom id is no link


def test_an_invalid_feed_language_is_ignored_not_fatal() -> None:
    feed = (
        b'<rss version="2.0"><channel><title>t</title><language>English</language><item><title>T</title>'
        b"<guid>x2</guid><description>Some body text for the item, in English.</description></item>"
        b"</channel></rss>"
    )
    parsed = feedparser.parse(feed)
    doc = entry_document(parsed.entries[0], "p", parsed.feed.get("language"))
    assert "language" not in doc
    assert normalize(RawInput(format="json", body=json.dumps(doc))).title == "T"


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ("Grüße".encode(), "text/html", "Grüße"),
        ("Grüße".encode("latin-1"), "text/html; charset=ISO-8859-1", "Grüße"),
        (b'<meta charset="windows-1251">' + "Привет".encode("cp1251"), "text/html", "Привет"),
        (b"\xef\xbb\xbfBOM", "text/html; charset=latin-1", "BOM"),
        (b"x", "text/html; charset=no-such-codec", "x"),
    ],
    ids=["default-utf8", "header", "meta", "bom", "unknown-codec"],
)
def test_decode_html(body: bytes, content_type: str, expected: str) -> None:
    assert expected in decode_html(body, content_type)
