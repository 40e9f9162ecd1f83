"""``SYNDICATE_GEO_UNKNOWN_SUBDIVISION=strict``: country variants of an audience's current feeds.

A reader whose CDN gives only the country (``UA``) may be in a subdivision that another audience
claims (Crimea, ``UA-43``). Under ``strict`` the geo route serves such readers ``AUDIENCE/SECTION~cc``:
the audience's current feed without the articles withheld in any of those subdivisions. Variants
carry no archive links (the audience's archive pages hold what they leave out) and are not pinged.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from feeds.feedkey import FeedKey
from feeds.meta import FeedMeta
from worker.geo import claimed_subdivisions, strict_countries
from worker.models import Audience, AudienceArticle
from worker.notices import regions_meet, withheld_regions
from worker.runtime import Runtime


def render_variants(
    rt: Runtime,
    feed: FeedKey,
    audience: Audience,
    meta: FeedMeta,
    views: list[AudienceArticle],
    store_all: Callable[[Runtime, str, FeedMeta, list[AudienceArticle], int | None], bool],
) -> None:
    """Store every strict variant of current feed ``feed`` (``views``: what the audience sees)."""
    if rt.settings.geo_unknown_subdivision != "strict":
        return
    config = rt.config
    today = datetime.now(UTC).date()
    for country in strict_countries(config.audiences, audience):
        subs = claimed_subdivisions(config.audiences, country, audience)
        kept = [
            view
            for view in views
            if not any(
                regions_meet(region, sub)
                for region in withheld_regions(view.article, config.notices, today, config.publishers)
                for sub in subs
            )
        ]
        store_all(rt, str(feed.with_variant(country)), meta, kept, None)
