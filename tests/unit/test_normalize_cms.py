"""CMS JSON: validated with pydantic, messy fields made clean."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from worker.models import Article, Notice, RawInput
from worker.normalize import article_id, normalize

DATA = Path(__file__).resolve().parents[1] / "data" / "normalize"
MESSY = (DATA / "cms-messy.json").read_text(encoding="utf-8")
NOTICES = [Notice.model_validate(n) for n in json.loads((DATA / "notices.json").read_text("utf-8"))]
BASE: dict[str, Any] = {"title": "Title", "body_text": "First paragraph.\n\nSecond paragraph."}


def _cms(**fields: Any) -> Article:
    return normalize(RawInput(format="json", body=json.dumps({**BASE, **fields})))


@pytest.fixture(scope="module")
def messy() -> Article:
    return normalize(RawInput(format="json", body=MESSY), NOTICES)


def test_messy_metadata(messy: Article) -> None:
    assert messy.title == 'Tajikistan & Kyrgyzstan Sign "Final" Border Deal — Officials'
    assert messy.authors == ["Jane Doe", "John Roe", "RFE/RL's Kyrgyz Service"]
    assert messy.published_at == datetime(2021, 6, 1, 12, 0, tzinfo=UTC)
    assert messy.updated_at == datetime(2021, 6, 2, 6, 30, tzinfo=UTC)
    assert messy.to_public()["published_at"] == "2021-06-01T12:00:00Z"
    assert messy.language == "en"
    assert messy.section == "Central Asia"
    assert messy.tags == ["Tajikistan", "Kyrgyzstan", "borders"]
    assert messy.restricted_regions == ["RU", "UA-43"]
    assert messy.url == "https://www.rferl.org/a/tajik-kyrgyz-border-deal/31290001.html?id=7"
    assert messy.id == article_id("rferl", "urn:rferl:article:31290001")


def test_messy_body(messy: Article) -> None:
    assert messy.body_text.split("\n\n") == [
        "Tajikistan and Kyrgyzstan have signed what officials called a final agreement on their "
        "long-disputed border.",
        "The deal, signed in Bishkek, follows clashes in 2021 and 2022 that killed more than 100 people. "
        "Details were not published.",
        "Residents of border villages said they hoped the agreement would end years of violence.",
    ]
    assert messy.detected_notices == ["rferl-undesirable-ru"]
    assert messy.summary == messy.body_text.split("\n\n")[0]
    for leak in ("SCRIPT-LEAK", "onclick", "javascript", "undesirable", "\u00a0"):
        assert leak not in messy.body_html + messy.body_text


def test_guid_and_id_are_the_same_key() -> None:
    assert _cms(guid="item-1").id == _cms(id="item-1").id == article_id("unknown", "item-1")
    assert _cms(id=12345).id == article_id("unknown", "12345")


def test_same_guid_same_id_whatever_the_content() -> None:
    first = _cms(guid="g", source="rferl", title="One")
    second = _cms(guid="g", source="rferl", title="Two", body_text="Other body.")
    assert first.id == second.id
    assert first.content_hash != second.content_hash


def test_without_guid_the_canonical_url_is_the_key() -> None:
    a = _cms(url="https://Example.org/a?utm_medium=x#top")
    b = _cms(url="https://example.org/a")
    assert a.id == b.id == article_id("unknown", "https://example.org/a")


@pytest.mark.parametrize(
    ("fields", "paragraphs"),
    [
        ({"body_text": "One.\nTwo.\nThree."}, ["One.", "Two.", "Three."]),
        ({"body_text": "One\nwrapped.\n\nTwo."}, ["One wrapped.", "Two."]),
        ({"body_text": None, "body": "<p>From body</p>"}, ["From body"]),
        ({"body_text": None, "content": "From content &amp; more"}, ["From content & more"]),
        ({"body_html": "<p>HTML wins</p>"}, ["HTML wins"]),
        ({"body_html": "   "}, ["First paragraph.", "Second paragraph."]),
    ],
    ids=["lines", "blank-line-paragraphs", "body", "content", "html-first", "empty-html-falls-back"],
)
def test_body_fields(fields: dict[str, Any], paragraphs: list[str]) -> None:
    assert _cms(**fields).body_text.split("\n\n") == paragraphs


@pytest.mark.parametrize(
    ("fields", "attr", "expected"),
    [
        ({"authors": [{"name": "Jane Doe"}, "John Roe"]}, "authors", ["Jane Doe", "John Roe"]),
        ({"author": "Jane Doe and John Roe"}, "authors", ["Jane Doe", "John Roe"]),
        ({"tags": "a, b,a"}, "tags", ["a", "b"]),
        ({"restricted_regions": "ru, by"}, "restricted_regions", ["RU", "BY"]),
        ({"summary": "<p>Own <b>summary</b></p>"}, "summary", "Own summary"),
        ({"publisher": "RFERL"}, "source", "rferl"),
        ({"language": "pt_br"}, "language", "pt-BR"),
        ({"unknown_field": {"x": 1}}, "title", "Title"),
    ],
    ids=["author-dicts", "author-singular", "tag-string", "region-string", "html-summary", "publisher",
         "language", "extra-ignored"],
)  # fmt: skip
def test_field_shapes(fields: dict[str, Any], attr: str, expected: object) -> None:
    assert getattr(_cms(**fields), attr) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2021-06-01T15:00:00+03:00", datetime(2021, 6, 1, 12, tzinfo=UTC)),
        ("2021-06-01T12:00:00Z", datetime(2021, 6, 1, 12, tzinfo=UTC)),
        ("2021-06-01T12:00:00", datetime(2021, 6, 1, 12, tzinfo=UTC)),
        ("2021-06-01", datetime(2021, 6, 1, tzinfo=UTC)),
        ("Tue, 01 Jun 2021 15:00:00 +0300", datetime(2021, 6, 1, 12, tzinfo=UTC)),
        (1622548800, datetime(2021, 6, 1, 12, tzinfo=UTC)),
        (None, None),
    ],
    ids=["offset", "zulu", "naive", "date-only", "rfc2822", "unix", "null"],
)
def test_dates_to_utc(value: object, expected: datetime | None) -> None:
    assert _cms(published_at=value).published_at == expected


def test_content_hash_follows_title_body_and_dates_only() -> None:
    base = _cms(published_at="2021-06-01T12:00:00Z")
    assert _cms(published_at="2021-06-01T15:00:00+03:00").content_hash == base.content_hash
    assert _cms(published_at="2021-06-01T12:00:00Z", tags=["x"]).content_hash == base.content_hash
    assert _cms(published_at="2021-06-01T12:00:01Z").content_hash != base.content_hash
    assert (
        _cms(published_at="2021-06-01T12:00:00Z", updated_at="2021-06-02").content_hash != base.content_hash
    )
    assert _cms(published_at="2021-06-01T12:00:00Z", title="Other").content_hash != base.content_hash
