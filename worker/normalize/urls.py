"""Canonical article URLs: the same page always gets the same string."""

from __future__ import annotations

import re
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

from worker.normalize.errors import NormalizeError

# Query parameters that only track the reader, never select the page.
TRACKING_PARAMS = frozenset(
    re.split(
        r"\s+",
        "fbclid gclid gclsrc dclid gbraid wbraid msclkid mc_cid mc_eid yclid ysclid _ga _gl igshid igsh"
        " twclid ttclid li_fat_id _hsenc _hsmi hsctatracking mkt_tok oly_anon_id oly_enc_id vero_id"
        " vero_conv wickedid rb_clickid s_cid spm scid cmpid ncid sr_share",
    )
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hmb_", "ga_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Kept as they are in a path or query: RFC 3986 unreserved and reserved characters and ``%``
# (existing escapes), except ``'``, which ends a single-quoted HTML attribute. Everything else
# (``"``, ``<``, ``>``, backquote, ``{}|\\^``, controls, non-ASCII) is percent-encoded as UTF-8, so the
# URL never comes out raw in any channel (feeds, webhooks, the API), whatever a consumer does.
URL_SAFE = "/?:@!$&()*+,;=-._~%"
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_HOST = re.compile(r"[a-z0-9._-]+|[0-9a-f:.]+")


def is_tracking_param(name: str) -> bool:
    key = name.lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """``url`` with scheme and host lower-cased, default port, fragment and tracking parameters gone.

    A protocol-relative URL (``//host/path``) is taken as https. Anything but an absolute
    http(s) URL raises :class:`NormalizeError`.
    """
    raw = url.strip()
    if raw.startswith("//"):
        raw = "https:" + raw
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise NormalizeError(f"url: {url!r} is not a valid URL ({exc})") from exc
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in _DEFAULT_PORTS or not host or any(c.isspace() for c in raw):
        raise NormalizeError(f"url: {url!r} is not an absolute http(s) URL")
    host = _ascii_host(host, url)
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    # Keep the other parameters byte for byte, in their order: only whole pairs are dropped.
    pairs = [p for p in parts.query.split("&") if p and not is_tracking_param(unquote_plus(p.split("=")[0]))]
    query = encode_url_part("&".join(pairs))
    return urlunsplit((scheme, netloc, encode_url_part(parts.path or "/"), query, ""))


def encode_url_part(text: str) -> str:
    """A path or query with every character outside :data:`URL_SAFE` percent-encoded; idempotent."""
    return quote(_STRAY_PERCENT.sub("%25", text), safe=URL_SAFE)


def _ascii_host(host: str, url: str) -> str:
    """The host as ASCII (IDNA for a non-ASCII name); anything but a host name or IP refused."""
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise NormalizeError(f"url: {url[:200]!r} has a host that is not a valid name ({exc})") from exc
    if not _HOST.fullmatch(host):
        raise NormalizeError(f"url: {url[:200]!r} has a host with characters a host name cannot hold")
    return host


def optional_canonical_url(url: str | None) -> str | None:
    """:func:`canonical_url`, or ``None`` when ``url`` is missing or not an http(s) URL."""
    if not url:
        return None
    try:
        return canonical_url(url)
    except NormalizeError:
        return None
