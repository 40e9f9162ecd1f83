"""One entry point for every feed format (the renderers are in ``feeds.formats``)."""

from __future__ import annotations

from collections.abc import Sequence

from feeds import formats
from feeds.meta import FeedMeta
from worker.models import AudienceArticle


def render(fmt: str, meta: FeedMeta, items: Sequence[AudienceArticle]) -> bytes:
    """The feed in ``fmt`` as UTF-8 bytes: items sorted newest first, same items -> same bytes.

    ``UnknownFormatError`` for a format that is not registered."""
    return formats.get(fmt).render(meta, items)
