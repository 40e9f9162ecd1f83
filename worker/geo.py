"""The reader's audience from trusted CDN geo headers (country and subdivision).

A trusted header is only as good as the edge that sets it: a header the CDN in front does not set
(or strip) is whatever the client sent. So operators list only their own CDN's headers
(``SYNDICATE_GEO_HEADERS``), and here a value that cannot come from one edge is not believed: a
header sent twice (joined with ``,`` by ``merged_headers``) or holding a list (``RU,US``) is
ignored with a log line, and the "unknown" codes ``--``, ``XX`` and ``T1`` (Tor) count as absent,
so the next header is asked.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence

from worker.models import Audience
from worker.names import region_code
from worker.notices import resolve_audience

log = logging.getLogger("syndicate.geo")
COUNTRY_HEADERS = ("cloudfront-viewer-country", "cf-ipcountry")
REGION_HEADERS = ("cloudfront-viewer-country-region",)
ABSENT = frozenset({"", "--", "XX", "T1"})  # no answer, unknown (Cloudflare XX, Akamai --), Tor
LOG_EVERY = 60.0  # seconds between two log lines about the same header
_last_logged: dict[str, float] = {}


def merged_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Request headers by lower-case name; a field sent more than once is joined with ``, ``
    (RFC 9110 5.3), so that a repeated geo header shows as a list rather than one of its copies."""
    out: dict[str, str] = {}
    for key, value in raw:
        name, text = key.decode("latin-1").lower(), value.decode("latin-1")
        out[name] = f"{out[name]}, {text}" if name in out else text
    return out


def _untrusted(name: str, value: str) -> None:
    now = time.monotonic()
    if now - _last_logged.get(name.lower(), -LOG_EVERY) >= LOG_EVERY:
        _last_logged[name.lower()] = now
        log.warning(
            "geo header %s ignored: it holds %d values (sent twice, or a list), which one edge never "
            "sets; the next trusted header decides (list only your CDN's headers in SYNDICATE_GEO_HEADERS)",
            name,
            value.count(",") + 1,
        )


def geo_codes(names: Sequence[str], headers: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(country, subdivision) from the first configured headers that give them; headers not named
    in ``names`` are not trusted. A subdivision is ``43`` or ``UA-43``."""
    country: str | None = None
    subdivision: str | None = None
    for name in names:
        value = region_code(headers.get(name) or "")
        if "," in value:
            _untrusted(name, value)
            continue
        if value in ABSENT:
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
    return country, subdivision


def audience_from_headers(
    audiences: Sequence[Audience], names: Sequence[str], headers: Mapping[str, str]
) -> Audience:
    """The audience of the reader the trusted ``headers`` describe (see ``geo_codes``)."""
    country, subdivision = geo_codes(names, headers)
    return resolve_audience(audiences, country, subdivision)


def claimed_subdivisions(audiences: Sequence[Audience], country: str, audience: Audience) -> list[str]:
    """The subdivisions of ``country`` that audiences other than ``audience`` list."""
    prefix = region_code(country) + "-"
    return sorted(
        {
            region_code(r)
            for a in audiences
            if a.id != audience.id
            for r in a.regions
            if region_code(r).startswith(prefix)
        }
    )


def strict_countries(audiences: Sequence[Audience], audience: Audience) -> list[str]:
    """The countries whose readers, when their subdivision is unknown, ``audience`` serves while
    another audience claims some subdivision of it (shipped config: ``UA`` for ``global``).

    Under ``SYNDICATE_GEO_UNKNOWN_SUBDIVISION=strict`` each gets its own variant of the audience's
    current feeds (``global/all~ua``) without the articles withheld in those subdivisions."""
    countries = {region_code(r).split("-", 1)[0] for a in audiences for r in a.regions if "-" in r}
    return sorted(
        c
        for c in countries
        if resolve_audience(audiences, c, None).id == audience.id
        and claimed_subdivisions(audiences, c, audience)
    )


def strict_variant(
    audiences: Sequence[Audience], names: Sequence[str], headers: Mapping[str, str], strict: bool
) -> tuple[Audience, str | None]:
    """The reader's audience, and under ``strict`` the country variant to serve (lower case) when
    the reader's subdivision is unknown and ``strict_countries`` names the country."""
    country, subdivision = geo_codes(names, headers)
    audience = resolve_audience(audiences, country, subdivision)
    if not strict or subdivision or not country:
        return audience, None
    strict_here = region_code(country) in strict_countries(audiences, audience)
    return audience, (country.lower() if strict_here else None)
