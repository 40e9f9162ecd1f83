"""One entry point for every feed format."""

from __future__ import annotations

from collections.abc import Sequence

from feeds.atom import render_atom
from feeds.jsonfeed import render_json
from feeds.meta import FeedFormat, FeedMeta, UnknownFormatError
from feeds.rss import render_rss
from worker.models import AudienceArticle

_RENDERERS = {"rss": render_rss, "atom": render_atom, "json": render_json}


def render(fmt: FeedFormat, meta: FeedMeta, items: Sequence[AudienceArticle]) -> bytes:
    """The feed in ``fmt`` as UTF-8 bytes: items sorted newest first, same items -> same bytes."""
    renderer = _RENDERERS.get(fmt)
    if renderer is None:
        raise UnknownFormatError(fmt)
    return renderer(meta, items)
