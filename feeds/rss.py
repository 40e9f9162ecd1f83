"""RSS 2.0 (with content:encoded, dc:creator, atom:link, media:restriction and geo notices)."""

from __future__ import annotations

from collections.abc import Sequence

from feeds.meta import FeedMeta
from feeds.xmlfeeds import render_xml
from worker.models import AudienceArticle


def render_rss(meta: FeedMeta, items: Sequence[AudienceArticle]) -> bytes:
    """UTF-8 RSS 2.0 with an XML declaration, items newest first."""
    return render_xml("rss", meta, items)
