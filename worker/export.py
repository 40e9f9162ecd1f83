"""Rendered feeds as static files (``SYNDICATE_EXPORT_DIR``): written atomically, each with its
gzip, for nginx or a CDN to serve; removed when an archive page retires."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from feeds import formats
from feeds.feedkey import FeedKey
from feeds.serve import FeedBytes, gzip_body

MAX_NAME_BYTES = 100  # an exported file name's part from the slug (file systems allow 255 bytes)


def export_name(part: str) -> str:
    """``part`` of an export path as it is when short; else its first bytes (whole characters, at
    most ``MAX_NAME_BYTES`` with the suffix) plus ``-`` and 16 hex digits of its sha256, so two long
    sections never share a file and the temp file's name (``.NAME.xxxxxxxx``) fits too."""
    raw = part.encode()
    if len(raw) <= MAX_NAME_BYTES:
        return part
    digest = hashlib.sha256(raw).hexdigest()[:16]
    head = raw[: MAX_NAME_BYTES - len(digest) - 1].decode(errors="ignore").rstrip("-")
    return f"{head}-{digest}"


def export(directory: Path, feed: FeedKey, fmt: str, stored: FeedBytes) -> Path:
    """Write one feed as a static file and its gzip beside it (``NAME.gz``, for nginx's
    ``gzip_static``), each atomically (temp file + rename), the gzip first.

    Both files get the feed's Last-Modified as their mtime: nginx makes a file's Last-Modified and
    ETag (``"<mtime hex>-<size hex>"``) from it, and so do the app's answers (``feeds.serve``),
    so deploy/nginx.conf and ``syndicate serve`` answer the same validators for the same feed.

    The path is ``feeds/AUDIENCE/SECTION.EXT`` (archive pages ``SECTION/archive/K.EXT``), each part
    bounded by :func:`export_name`: a section of 200 Cyrillic letters (400 bytes) is longer than
    any file system's name limit, and such a feed is then served by the HTTP route only.
    """
    target = _export_target(directory, feed, fmt)
    target.parent.mkdir(parents=True, exist_ok=True)
    mtime = int(stored.last_modified_ts)
    gzipped = stored.gzipped if stored.gzipped is not None else gzip_body(stored.body)
    _write(target.with_name(target.name + ".gz"), gzipped, mtime)
    _write(target, stored.body, mtime)
    return target


def _export_target(directory: Path, feed: FeedKey, fmt: str) -> Path:
    audience, *parts = feed.export_path.split("/")
    name = "/".join(export_name(part) for part in parts)
    return directory / "feeds" / export_name(audience) / formats.get(fmt).file_name(name)


def unexport(directory: Path, feed: FeedKey, fmt: str) -> None:
    """Remove an exported feed and its gzip (a retired archive page)."""
    target = _export_target(directory, feed, fmt)
    target.with_name(target.name + ".gz").unlink(missing_ok=True)
    target.unlink(missing_ok=True)


def _write(target: Path, data: bytes, mtime: int) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes it 0600: a web server (nginx) must read it
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.utime(fh.fileno(), (mtime, mtime))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
