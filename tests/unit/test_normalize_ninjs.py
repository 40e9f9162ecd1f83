"""IPTC ninjs in: documents of several agencies and versions (tests/data/ninjs/) to one article."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from worker.models import Article, RawInput
from worker.normalize import NormalizeError, article_id, detect_format, normalize
from worker.normalize.ninjs import byline_names, unwrap

DATA = Path(__file__).resolve().parents[1] / "data" / "ninjs"
FIXTURES = sorted(p.name for p in DATA.glob("*.json"))
MINIMAL: dict[str, Any] = {"uri": "urn:newsml:example.org:1", "headlines": [{"value": "Headline"}],
                           "bodies": [{"value": "First paragraph.\n\nSecond paragraph."}]}  # fmt: skip


def _load(name: str, fmt: str = "json") -> Article:
    return normalize(RawInput(format=fmt, body=(DATA / name).read_text("utf-8")))  # type: ignore[arg-type]


def _doc(**fields: Any) -> Article:
    return normalize(RawInput(format="json", body=json.dumps({**MINIMAL, **fields})))


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize("name", FIXTURES)
def test_every_fixture_is_detected_and_parses(name: str) -> None:
    body = (DATA / name).read_text("utf-8")
    assert detect_format(body) == "ninjs"
    as_json, as_ninjs = _load(name, "json"), _load(name, "ninjs")
    assert as_json == as_ninjs  # application/json and --format ninjs read the same way
    assert as_json.title and as_json.body_text and "<script" not in as_json.body_html


def test_dpa_3x() -> None:
    a = _load("dpa-3x.json")
    assert a.source == "dpa"
    assert a.id == article_id("dpa", "urn:newsml:dpa.com:20090101:241202-99-512345")
    assert a.title == "Lokführer legen Fernverkehr für zwei Tage lahm"  # role main, not the sub
    assert a.authors == ["Christian Hollmann", "dpa"]
    assert a.language == "de"
    assert a.published_at == _when("2026-12-02T06:12:00+00:00")
    assert a.updated_at == _when("2026-12-02T08:45:30+00:00")
    assert a.embargoed_until == _when("2026-12-02T09:00:00+00:00")
    assert a.expires_at == _when("2027-01-02T00:00:00+00:00")
    assert a.pub_status == "usable"
    assert a.summary.startswith("Die Gewerkschaft ruft erneut")
    assert a.tags == ["Verkehr", "Arbeitskampf", "Meldung", "Deutschland", "Berlin"]
    # The HTML body (not its text/plain twin), unwrapped: nothing of <head>, structure kept.
    assert "HEAD-TITLE-LEAK" not in a.body_html + a.body_text
    assert "<section" not in a.body_html and "<html" not in a.body_html
    assert "<h2>Was Reisende wissen müssen</h2>" in a.body_html
    assert '<a href="https://www.bahn.de/info">Notfahrplan</a>' in a.body_html  # tracking gone
    assert "<ul><li>Fernverkehr" in a.body_html
    assert a.to_public()["embargoed_until"] == "2026-12-02T09:00:00Z"
    assert "pub_status" not in a.to_public()


def test_ap_2x() -> None:
    a = _load("ap-2x.json")
    assert a.source == "ap"
    assert a.authors == ["Lisa Mascaro", "Mary Clare Jalonick"]
    assert a.published_at == _when("2026-11-30T14:03:00+00:00")
    assert a.updated_at == _when("2026-11-30T16:20:00+00:00")
    assert a.embargoed_until == _when("2026-11-30T15:00:00+00:00")  # 2.x "embargoed"
    assert a.body_html.startswith("<p>WASHINGTON (AP) — The Senate passed a stopgap bill late Saturday, se")
    assert "Washington" in a.tags and "Government and politics" in a.tags
    assert a.image is not None
    assert a.image.url == "https://mapi.associatedpress.com/v1/items/aa00bb11/main/main.jpg"  # the largest
    assert (a.image.width, a.image.height, a.image.type) == (3000, 2000, "image/jpeg")
    assert a.image.credit == "J. Scott Applewhite"
    assert a.image.caption is not None and a.image.caption.startswith("Senators leave the chamber")


def test_ntb_1x() -> None:
    a = _load("ntb-1x.json")
    assert a.source == "ntb"
    assert a.title == "Strømprisen stiger igjen i Sør-Norge"
    assert a.authors == ["Ola Nordmann", "Kari Hansen", "NTB"]
    assert a.language == "nb"
    assert a.published_at == _when("2026-12-01T07:30:00+00:00") and a.updated_at is None
    assert len(a.body_text.split("\n\n")) == 3 and a.body_html.count("<p>") == 3
    assert a.summary == "Kulde og lite vind sender strømprisene opp."
    assert a.tags == ["Økonomi og næringsliv", "Energi", "Sør-Norge", "Oslo"]


def test_superdesk() -> None:
    a = _load("superdesk.json")
    assert a.source == "aap"
    assert a.id.startswith("aap-")
    assert a.title == "Treasurer unveils surplus budget & tax cuts"
    assert a.authors == ["Jane Smith"]
    assert a.language == "en-AU"
    assert a.updated_at == _when("2026-12-01T10:15:42+00:00")
    assert a.summary == "The government has handed down its first surplus in 15 years."
    assert '<img src="https://cdn.example.com/chart.png"' in a.body_html
    assert {"budget", "tax", "Canberra", "ACT"} <= set(a.tags)
    assert a.image is not None
    # A TIFF original is no web image: the largest JPEG rendition is the lead image.
    assert a.image.url == "https://cdn.example.com/pic-1/view.jpg"
    assert a.image.credit == "AAP Image/Mick Tsikas"
    assert a.image.alt == "Treasurer at the dispatch box"


def test_only_descriptions() -> None:
    a = _load("descriptions-only.json")
    assert a.body_text.split("\n\n") == [
        "Kraftigt snöfall stoppar tågtrafiken norr om Sundsvall.",
        "SJ räknar med att trafiken kommer igång under torsdagen.",
    ]
    assert a.authors == ["TT"] and a.source == "tt"


def test_associations_3x_and_withheld() -> None:
    a = _load("associations-3x.json")
    assert a.pub_status == "withheld"
    assert a.url == "https://news.example.org/world/story-55"  # altIds role url
    assert 'href="https://news.example.org/iceland"' in a.body_html  # relative link resolved
    assert a.image is not None and a.image.url == "https://img.example.org/pic-9/web.jpg"
    assert (a.image.width, a.image.height) == (1600, 1067)
    assert a.image.caption == "Lava fountains light the sky near Grindavik."
    assert a.image.credit == "Halldor Kolbeins/AFP"


@pytest.mark.parametrize(
    ("fields", "status"),
    [({"pubStatus": "canceled"}, "canceled"), ({"pubstatus": "cancelled"}, "canceled"), ({}, "usable")],
)
def test_pub_status(fields: dict[str, Any], status: str) -> None:
    assert _doc(**fields).pub_status == status


def test_html_preferred_over_plain_and_role_main_headline() -> None:
    a = _doc(
        headlines=[{"role": "short", "value": "Short"}, {"role": "main", "value": "The main one"}],
        bodies=[
            {"contentType": "text/plain", "value": "Plain text body."},
            {"role": "web", "contentType": "text/html", "value": "<p>Marked <em>up</em> body.</p>"},
        ],
    )
    assert a.title == "The main one"
    assert a.body_html == "<p>Marked <em>up</em> body.</p>"


def test_lower_case_content_type_and_dates_of_2x() -> None:
    html = [{"contenttype": "text/html", "value": "<p>One.</p><p>Two.</p>"}]
    a = _doc(bodies=html, firstcreated="2024-01-01")
    assert a.body_text == "One.\n\nTwo."
    assert a.published_at == datetime(2024, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"uri": None}, "ninjs: field 'uri' is missing"),
        ({"headlines": []}, "ninjs: no headline"),
        ({"bodies": []}, "ninjs: the item has no text"),
        ({"bodies": 5}, "ninjs: field 'bodies' has 5 (expected an array of objects)"),
        ({"bodies": [{"value": 3}]}, "ninjs: bodies[0].value has 3 (expected a string)"),
        ({"pubStatus": "dead"}, "ninjs: field 'pubStatus' has 'dead'"),
        ({"embargoedUntil": "soon"}, "ninjs: field 'embargoedUntil' has 'soon' (expected an ISO 8601"),
        ({"expires": "never"}, "ninjs: field 'expires' has 'never'"),
        ({"language": 7}, "ninjs: field 'language' has 7 (expected a string)"),
    ],
)
def test_errors_are_one_line_naming_the_field(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(NormalizeError) as err:
        _doc(**fields)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        ("Von Christian Hollmann, dpa", ["Christian Hollmann", "dpa"]),
        ("By Jane Doe and John Roe", ["Jane Doe", "John Roe"]),
        ("Christian Hollmann und Anna Schmidt, dpa", ["Christian Hollmann", "Anna Schmidt", "dpa"]),
        ("Av Ola Nordmann / NTB", ["Ola Nordmann", "NTB"]),
        ("RFE/RL", ["RFE/RL"]),
        ("Byron Smith", ["Byron Smith"]),
    ],
)
def test_byline_names(byline: str, names: list[str]) -> None:
    assert byline_names(byline) == names


def test_unwrap_takes_the_body_only() -> None:
    wrapped = "<html><head><title>T</title><style>x</style></head><body><section><p>Hi</p></section></body>"
    assert unwrap(wrapped) == "<section><p>Hi</p></section>"
    assert unwrap("<p>plain fragment</p>") == "<p>plain fragment</p>"


def test_cms_json_is_not_taken_for_ninjs() -> None:
    cms = json.dumps({"title": "T", "body_text": "Body.", "guid": "g-1", "published_at": "2024-01-01"})
    assert detect_format(cms) == "json"
    assert normalize(RawInput(format="json", body=cms)).title == "T"


def test_ap_bylines_and_summary_without_a_body() -> None:
    a = _doc(bodies=None, bylines=[{"by": "By ZEKE MILLER", "title": "Associated Press"}], summary="Short.")
    assert a.authors == ["Zeke Miller"]
    assert a.body_text == "Short."


def test_tt_body_html5() -> None:
    a = _doc(bodies=None, body_html5="<p>Första stycket.</p><p>Andra.</p>", uri="tag:tt.se,2026:item-1")
    assert a.body_html == "<p>Första stycket.</p>\n<p>Andra.</p>"
    assert a.source == "tt"


@pytest.mark.parametrize(
    ("uri", "source"),
    [
        ("urn:newsml:dpa.com:20090101:1", "dpa"),
        ("https://www.ntb.no/item/1", "ntb"),
        ("ntb:2026-12-01-0042", "ntb"),
        ("tag:tt.se,2026:item-1", "tt"),
        ("http://news.bbc.co.uk/item/1", "bbc"),
        ("urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e", "unknown"),
    ],
)
def test_source_from_the_uri(uri: str, source: str) -> None:
    assert _doc(uri=uri).source == source


def test_a_picture_item_is_its_own_lead_image() -> None:
    rendition = {"name": "web", "href": "https://img.example.org/p.jpg", "contentType": "image/jpeg"}
    a = _doc(type="picture", bodies=None, descriptions=[{"value": "A caption."}], renditions=[rendition])
    assert a.body_text == "A caption."
    assert a.image is not None and a.image.url == "https://img.example.org/p.jpg"


def test_a_malformed_association_is_passed_over() -> None:
    good = {"name": "pic2", "uri": "urn:x:2", "type": "picture",
            "renditions": [{"name": "w", "href": "https://img.example.org/2.jpg"}]}  # fmt: skip
    bad = {"name": "featuremedia", "uri": "urn:x:1", "type": "picture", "descriptions": 5,
           "renditions": [{"name": "w", "href": "https://img.example.org/1.jpg"}]}  # fmt: skip
    a = _doc(associations=[bad, good])
    assert a.image is not None and a.image.url == "https://img.example.org/2.jpg"


@pytest.mark.parametrize("name", FIXTURES)
def test_golden(name: str) -> None:
    """Each fixture's whole article, exactly (``UPDATE_GOLDEN=1`` writes them anew)."""
    expected = DATA / "expected" / name
    got = _load(name).to_public()
    if os.environ.get("UPDATE_GOLDEN") == "1":
        expected.parent.mkdir(exist_ok=True)
        expected.write_text(json.dumps(got, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    assert got == json.loads(expected.read_text("utf-8"))


def test_an_xhtml_document_with_an_xml_declaration_is_unwrapped() -> None:
    xhtml = (
        '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml">'
        "<head><title>HEAD</title></head><body><section><p>Body.</p></section></body></html>"
    )
    a = _doc(bodies=[{"contentType": "application/xhtml+xml", "value": xhtml}])
    assert a.body_html == "<p>Body.</p>"


def test_a_string_where_an_array_is_expected_is_one_text() -> None:
    a = _doc(headlines="One headline", bodies="<p>One body.</p>")
    assert (a.title, a.body_html) == ("One headline", "<p>One body.</p>")


def test_embargoed_false_is_no_embargo() -> None:
    assert _doc(embargoed=False, expires="").embargoed_until is None
    with pytest.raises(NormalizeError, match="field 'embargoed' has True"):
        _doc(embargoed=True)
