"""Serving stored feed bytes like a CDN origin: validators, conditional GET, gzip.

Pure functions over bytes and headers; the HTTP app passes in what storage returned.

The validators are nginx's own, so that deploy/nginx.conf serving the exported files
(``worker.export.export``: the file, its ``.gz`` beside it, both with the feed's Last-Modified
as their mtime) and this server answer the same ones for the same feed:

* ``ETag`` is ``"<mtime hex>-<size hex>"`` of what is sent (nginx's ``ngx_http_set_etag``): the
  plain bytes, or the gzip bytes (``gzip_static`` makes the ``.gz`` file's tag the same way). It is
  an honest strong validator because storage gives every new content of a feed a Last-Modified
  second later than the one before (``worker.storage.feeds``), so no two contents share a second;
* ``If-None-Match`` matches the tag of the representation being sent, as nginx compares it;
  ``If-Modified-Since`` holds at or after Last-Modified (nginx's ``if_modified_since before``);
  when both are sent, both must hold (nginx's rule; RFC 9110 would ignore the date);
* gzip is sent when ``Accept-Encoding`` names ``gzip`` with a q above 0 (nginx's test; ``*``
  alone is not enough for nginx, so it is not here either).
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime

from feeds import formats

MAX_AGE = 60
GZIP_LEVEL = 6
# What a browser gets for a format with ``browser_page`` (RSS, Atom): see ``feeds.formats``.
PAGE_TYPE = "application/xml; charset=utf-8"


def wants_page(req: Mapping[str, str], fmt: str) -> bool:
    return formats.get(fmt).browser_page and "text/html" in req.get("accept", "").lower()


def etag_of(seconds: int, size: int) -> str:
    """nginx's strong ETag of a file: ``"<mtime hex>-<size hex>"`` (``ngx_http_set_etag``)."""
    return f'"{seconds:x}-{size:x}"'


@dataclass(frozen=True)
class FeedBytes:
    """A stored feed: its bytes, their gzip (made at render time) and the validators of each."""

    body: bytes
    etag: str
    last_modified: str  # HTTP date
    last_modified_ts: float
    gzipped: bytes | None = None
    gzip_etag: str = ""  # the gzip bytes' own tag; made from them on the fly when empty

    @classmethod
    def at(cls, body: bytes, gzipped: bytes, seconds: int) -> FeedBytes:
        """The feed as last modified at ``seconds``, with the validators nginx gives its files."""
        return cls(
            body=body,
            etag=etag_of(seconds, len(body)),
            last_modified=formatdate(seconds, usegmt=True),
            last_modified_ts=float(seconds),
            gzipped=gzipped,
            gzip_etag=etag_of(seconds, len(gzipped)),
        )


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


def gzip_body(body: bytes) -> bytes:
    """The gzip bytes of a feed, made once at render time (and stored, and exported beside the
    file). A gzip exactly as long as the body would give both codings one ETag: then the header
    names a file (two bytes more), so the tags differ (RFC 9110 8.8.3)."""
    out = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
    if len(out) == len(body):
        buf = io.BytesIO()
        with gzip.GzipFile("f", "wb", GZIP_LEVEL, buf, mtime=0) as fh:
            fh.write(body)
        out = buf.getvalue()
    return out


def _not_modified(req: Mapping[str, str], feed: FeedBytes, etag: str) -> bool:
    """nginx's test (``ngx_http_not_modified_header_filter``): each validator sent must hold."""
    inm, ims = req.get("if-none-match"), req.get("if-modified-since")
    if inm is None and not ims:
        return False
    # Weak comparison (RFC 9110 13.1.2) with the tag of the coding being sent, as nginx does.
    if inm is not None and not any(t.strip().removeprefix("W/") in (etag, "*") for t in inm.split(",")):
        return False
    if ims:
        try:
            return feed.last_modified_ts <= parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError, IndexError):
            return False
    return True


def accepts_gzip(req: Mapping[str, str]) -> bool:
    """``gzip`` named with a q above 0 (nginx's ``ngx_http_gzip_ok``; ``*`` is not ``gzip``)."""
    for part in req.get("accept-encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() == "gzip":
            q = params.replace(" ", "").lower().removeprefix("q=")
            try:
                return not params.strip() or float(q) > 0
            except ValueError:
                return False
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
    body = feed.body
    etag = feed.etag
    if gzipped:
        body = feed.gzipped if feed.gzipped is not None else gzip_body(body)
        etag = feed.gzip_etag or etag_of(int(feed.last_modified_ts), len(body))
    headers = {
        "ETag": etag,
        "Last-Modified": feed.last_modified,
        "Cache-Control": f"{'public' if public else 'private'}, max-age={MAX_AGE}",
        "Vary": ", ".join(["Accept-Encoding", *(["Accept"] if spec.browser_page else []), *(vary or [])]),
    }
    if links:
        headers["Link"] = links
    if _not_modified(req, feed, etag):
        return Reply(304, headers, b"")
    headers["Content-Type"] = PAGE_TYPE if wants_page(req, fmt) else spec.media_type
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    headers["Content-Length"] = str(len(body))
    return Reply(200, headers, body)
