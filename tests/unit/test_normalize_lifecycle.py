"""The life-cycle fields of CMS JSON and of the query parameters: embargo, expiry, pub_status."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from worker.models import Article, RawInput
from worker.normalize import NormalizeError, normalize

BASE: dict[str, Any] = {"title": "Title", "body_text": "First paragraph.\n\nSecond paragraph."}


def _cms(**fields: Any) -> Article:
    return normalize(RawInput(format="json", body=json.dumps({**BASE, **fields})))


def test_cms_embargo_and_expiry_become_utc_datetimes() -> None:
    a = _cms(embargoed_until="2026-12-02T10:00:00+01:00", expires_at="2026-12-09T09:00:00Z")
    assert a.embargoed_until == datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    assert a.expires_at == datetime(2026, 12, 9, 9, 0, tzinfo=UTC)
    public = a.to_public()
    assert public["embargoed_until"] == "2026-12-02T09:00:00Z"
    assert public["expires_at"] == "2026-12-09T09:00:00Z"
    assert "pub_status" not in public


def test_absent_or_empty_fields_are_null() -> None:
    a = _cms(embargoed_until="", expires_at=None)
    assert a.embargoed_until is None and a.expires_at is None and a.pub_status == "usable"
    assert a.to_public()["embargoed_until"] is None


@pytest.mark.parametrize(
    ("given", "expected"), [("usable", "usable"), ("Withheld", "withheld"), ("canceled", "canceled")]
)
def test_cms_pub_status(given: str, expected: str) -> None:
    assert _cms(pub_status=given).pub_status == expected


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"embargoed_until": "next tuesday"}, "json: field 'embargoed_until' has 'next tuesday'"),
        ({"expires_at": [1]}, "json: field 'expires_at' has [1]"),
        (
            {"pub_status": "killed"},
            "json: field 'pub_status' has 'killed' (expected one of usable, withheld, canceled)",
        ),
    ],
)
def test_bad_values_name_the_field(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(NormalizeError) as err:
        _cms(**fields)
    assert str(err.value).startswith(message)


def test_query_parameters_fill_what_the_body_lacks() -> None:
    raw = RawInput(
        format="html",
        body="<html><body><article><h1>Headline</h1><p>First paragraph of the text.</p></article></body>",
        embargoed_until="2026-12-02T09:00:00Z",
        expires_at="2026-12-03T09:00:00Z",
    )
    a = normalize(raw)
    assert a.embargoed_until == datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    assert a.expires_at == datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    body = json.dumps({**BASE, "embargoed_until": "2026-12-05T00:00:00Z"})
    stated = normalize(RawInput(format="json", body=body, embargoed_until="2026-12-02T09:00:00Z"))
    assert stated.embargoed_until == datetime(2026, 12, 5, tzinfo=UTC)


def test_bad_query_parameter_names_it() -> None:
    with pytest.raises(NormalizeError, match=r"^expires_at: 'soon' is not a date"):
        normalize(RawInput(format="json", body=json.dumps(BASE), expires_at="soon"))


def test_the_embargo_is_not_part_of_the_identity() -> None:
    assert _cms(guid="x-1").id == _cms(guid="x-1", embargoed_until="2026-12-02T09:00:00Z").id
