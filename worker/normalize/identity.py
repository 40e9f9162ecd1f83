"""Article identity: the stable id and the content hash."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime

from worker.models import iso_utc

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def id_prefix(value: str) -> str:
    """The ASCII part an article id starts with (a source's or publisher's name): lower case, runs
    of other characters as ``-``; ``unknown`` when nothing is left. Not a section slug (that is
    ``worker.names.section_slug``, which keeps every script)."""
    return _NOT_SLUG.sub("-", value.lower()).strip("-") or "unknown"


def article_id(source: str, key: str) -> str:
    """Stable, URL-safe id (``[a-z0-9-]``) of one source item.

    ``key`` is the item's guid, else its canonical URL, else :func:`fallback_key`.
    """
    digest = hashlib.sha256(f"{source}\n{key}".encode()).hexdigest()[:20]
    return f"{id_prefix(source)}-{digest}"


def fallback_key(title: str, published_at: datetime | None, body_text: str = "") -> str:
    """The identity of an item with neither guid nor URL: its title and the publication time it
    states; without a stated time, its title and body, so that sending it again (whenever it is
    received) is the same article."""
    headline = " ".join(title.casefold().split())
    if published_at:
        return f"title:{headline}\n{iso_utc(published_at)}"
    body = hashlib.sha256(" ".join(body_text.casefold().split()).encode()).hexdigest()[:32]
    return f"content:{headline}\n{body}"


def content_hash(
    title: str,
    body_text: str,
    published_at: datetime | None,
    updated_at: datetime | None,
    *,
    body_html: str | None = None,
    image: dict[str, object] | None = None,
) -> str:
    """sha256 hex over exactly the fields whose change makes a new version of the article.

    ``body_html`` is given for structured bodies (a changed link is a new version) and ``image``
    when the article has one; plain-text articles hash as they always did.
    """
    payload: list[object] = [
        title,
        body_text,
        iso_utc(published_at) if published_at else None,
        iso_utc(updated_at) if updated_at else None,
    ]
    if body_html is not None or image is not None:
        payload += [body_html, image]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode()).hexdigest()
