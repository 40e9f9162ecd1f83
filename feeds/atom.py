"""Atom 1.0 (RFC 4287), with media:restriction and geo notices as entry extension elements."""

from __future__ import annotations

from collections.abc import Sequence

from feeds.meta import FeedMeta
from feeds.xmlfeeds import render_xml
from worker.models import AudienceArticle


def render_atom(meta: FeedMeta, items: Sequence[AudienceArticle]) -> bytes:
    """UTF-8 Atom 1.0 with an XML declaration, entries newest first."""
    return render_xml("atom", meta, items)
