"""Geo headers: only what one edge could have set is believed."""

from __future__ import annotations

import logging

import pytest

from worker import geo
from worker.geo import geo_codes, merged_headers
from worker.settings import Settings

DEFAULT = ["CloudFront-Viewer-Country", "CloudFront-Viewer-Country-Region", "CF-IPCountry"]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"CloudFront-Viewer-Country": "RU"}, ("RU", None)),
        ({"CloudFront-Viewer-Country": "--", "CF-IPCountry": "RU"}, ("RU", None)),  # falls through
        ({"CloudFront-Viewer-Country": "XX", "CF-IPCountry": "RU"}, ("RU", None)),
        ({"CloudFront-Viewer-Country": "T1", "CF-IPCountry": "RU"}, ("RU", None)),
        ({"CloudFront-Viewer-Country": "RU,US", "CF-IPCountry": "US"}, ("US", None)),  # a list: ignored
        ({"CloudFront-Viewer-Country": "RU, RU"}, (None, None)),  # sent twice: ignored
        ({"CloudFront-Viewer-Country": "UA", "CloudFront-Viewer-Country-Region": "43, 30"}, ("UA", None)),
        ({"CloudFront-Viewer-Country": "UA", "CloudFront-Viewer-Country-Region": "--"}, ("UA", None)),
        ({"CloudFront-Viewer-Country": "UA", "CloudFront-Viewer-Country-Region": "43"}, ("UA", "43")),
    ],
)
def test_geo_codes(headers: dict[str, str], expected: tuple[str | None, str | None]) -> None:
    assert geo_codes(DEFAULT, headers) == expected


def test_repeated_header_is_joined_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    raw = [(b"cloudfront-viewer-country", b"US"), (b"cloudfront-viewer-country", b"RU"), (b"accept", b"*/*")]
    headers = merged_headers(raw)
    assert headers == {"cloudfront-viewer-country": "US, RU", "accept": "*/*"}
    geo._last_logged.clear()
    names = [n.lower() for n in DEFAULT]
    with caplog.at_level(logging.WARNING, logger="syndicate.geo"):
        assert geo_codes(names, headers) == (None, None)
        assert geo_codes(names, headers) == (None, None)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1  # once, not per request
    assert "cloudfront-viewer-country ignored: it holds 2 values" in lines[0]


def test_default_header_list_is_recognised() -> None:
    assert Settings().default_geo_headers
    assert not Settings.from_env({"SYNDICATE_GEO_HEADERS": "CF-IPCountry"}).default_geo_headers
    assert (
        Settings.from_env({"SYNDICATE_GEO_UNKNOWN_SUBDIVISION": "strict"}).geo_unknown_subdivision == "strict"
    )
    with pytest.raises(ValueError, match="geo_unknown_subdivision"):
        Settings.from_env({"SYNDICATE_GEO_UNKNOWN_SUBDIVISION": "lenient"})
