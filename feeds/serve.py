"""Serving stored feed bytes like a CDN origin: validators, conditional GET, gzip.

Pure functions over bytes and headers; the HTTP app passes in what storage returned.
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from feeds import formats

MAX_AGE = 60
# What a browser gets for a format with ``browser_page`` (RSS, Atom): see ``feeds.formats``.
PAGE_TYPE = "application/xml; charset=utf-8"


def wants_page(req: Mapping[str, str], fmt: str) -> bool:
    return formats.get(fmt).browser_page and "text/html" in req.get("accept", "").lower()


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
    """``afghanistan-pakistan.rss`` -> (``afghanistan-pakistan``, ``rss``): the stem and the name of
    the format the extension belongs to; None if no registered format has that extension."""
    stem, dot, ext = name.rpartition(".")
    found = formats.by_extension(ext) if dot and stem else None
    return None if found is None else (stem, found.name)


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
    spec = formats.get(fmt)
    headers = {
        "ETag": gzip_etag(feed.etag) if gzipped else feed.etag,
        "Last-Modified": feed.last_modified,
        "Cache-Control": f"{'public' if public else 'private'}, max-age={MAX_AGE}",
        "Vary": ", ".join(["Accept-Encoding", *(["Accept"] if spec.browser_page else []), *(vary or [])]),
    }
    if links:
        headers["Link"] = links
    if _not_modified(req, feed):
        return Reply(304, headers, b"")
    headers["Content-Type"] = PAGE_TYPE if wants_page(req, fmt) else spec.media_type
    body = feed.body
    if gzipped:
        body = feed.gzipped if feed.gzipped is not None else gzip.compress(body, compresslevel=6, mtime=0)
        headers["Content-Encoding"] = "gzip"
    headers["Content-Length"] = str(len(body))
    return Reply(200, headers, body)
