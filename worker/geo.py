"""The reader's audience from trusted CDN geo headers (country and subdivision)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from worker.models import Audience
from worker.notices import resolve_audience

COUNTRY_HEADERS = ("cloudfront-viewer-country", "cf-ipcountry")
REGION_HEADERS = ("cloudfront-viewer-country-region",)


def audience_from_headers(
    audiences: Sequence[Audience], names: Sequence[str], headers: Mapping[str, str]
) -> Audience:
    """Country from the first configured header that gives one; subdivision where one is given
    (``43`` or ``UA-43``). Headers not named in ``names`` are not trusted."""
    country: str | None = None
    subdivision: str | None = None
    for name in names:
        value = (headers.get(name) or "").strip().upper()
        if not value or value in ("XX", "T1"):  # Cloudflare: unknown / Tor
            continue
        low = name.lower()
        if low in REGION_HEADERS or "region" in low or "subdivision" in low:
            subdivision = subdivision or value
        elif "-" in value and len(value) > 3:
            country = country or value.split("-", 1)[0]
            subdivision = subdivision or value
        else:
            country = country or value
    if subdivision and "-" in subdivision:
        country = country or subdivision.split("-", 1)[0]
    return resolve_audience(audiences, country, subdivision)
