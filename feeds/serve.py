"""Serving stored feed bytes like a CDN origin: validators, conditional GET, gzip.

Pure functions over bytes and headers; the HTTP app passes in what storage returned.
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

CONTENT_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json",
}
MAX_AGE = 60
# A browser (it asks for text/html first) gets RSS and Atom as plain XML, which it renders
# through the feed's stylesheet; as application/rss+xml it would show the raw text or download it.
PAGE_TYPE = "application/xml; charset=utf-8"


def wants_page(req: Mapping[str, str], fmt: str) -> bool:
    return fmt in ("rss", "atom") and "text/html" in req.get("accept", "").lower()


@dataclass(frozen=True)
class FeedBytes:
    """A stored feed: its bytes (or only their gzip, made at render time) and its validators."""

    body: bytes
    etag: str
    last_modified: str  # HTTP date
    last_modified_ts: float
    gzipped: bytes | None = None


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def split_name(name: str) -> tuple[str, str] | None:
    """``afghanistan-pakistan.rss`` -> (``afghanistan-pakistan``, ``rss``); None if unknown format."""
    stem, dot, fmt = name.rpartition(".")
    if not dot or not stem or fmt not in CONTENT_TYPES:
        return None
    return stem, fmt


def gzip_etag(etag: str) -> str:
    """The gzip representation's own strong ETag: ``"abc"`` -> ``"abc-gzip"`` (RFC 9110 8.8.3: a
    strong validator differs per content-coding)."""
    return etag[:-1] + '-gzip"' if etag.endswith('"') else etag + "-gzip"


def _not_modified(req: Mapping[str, str], feed: FeedBytes) -> bool:
    inm = req.get("if-none-match")
    if inm is not None:
        # Weak comparison (RFC 9110 13.1.2): either coding's tag names the same content.
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or feed.etag in tags or gzip_etag(feed.etag) in tags
    ims = req.get("if-modified-since")
    if ims:
        try:
            return feed.last_modified_ts <= parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError, IndexError):
            return False
    return False


def accepts_gzip(req: Mapping[str, str]) -> bool:
    for part in req.get("accept-encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*") and params.replace(" ", "") not in ("q=0", "q=0.0"):
            return True
    return False


def reply(
    req: Mapping[str, str],
    feed: FeedBytes,
    fmt: str,
    *,
    vary: list[str] | None = None,
    public: bool = True,
    links: str = "",
) -> Reply:
    """The response to a GET of ``feed``; ``req`` holds lower-case request header names.

    ``public=False`` (the geo route, by default) keeps shared caches from storing an answer that
    depends on the reader's region."""
    gzipped = accepts_gzip(req)
    headers = {
        "ETag": gzip_etag(feed.etag) if gzipped else feed.etag,
        "Last-Modified": feed.last_modified,
        "Cache-Control": f"{'public' if public else 'private'}, max-age={MAX_AGE}",
        "Vary": ", ".join(["Accept-Encoding", *(["Accept"] if fmt != "json" else []), *(vary or [])]),
    }
    if links:
        headers["Link"] = links
    if _not_modified(req, feed):
        return Reply(304, headers, b"")
    headers["Content-Type"] = PAGE_TYPE if wants_page(req, fmt) else CONTENT_TYPES[fmt]
    body = feed.body
    if gzipped:
        body = feed.gzipped if feed.gzipped is not None else gzip.compress(body, compresslevel=6, mtime=0)
        headers["Content-Encoding"] = "gzip"
    headers["Content-Length"] = str(len(body))
    return Reply(200, headers, body)
