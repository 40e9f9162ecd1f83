"""Render cost per tag: one item with ``small`` vs ``large`` tags, every format (issue #14).

feedgen rebuilt its category list on every ``category()`` call, so a render was quadratic in the
tag count (5k tags 2.3 s, 10k 9 s). Linear rendering keeps the seconds per tag flat: the ratio of
the large run's per-tag time to the small run's stays near 1 (quadratic: near large / small).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from feeds import formats
from feeds.meta import FeedMeta
from feeds.render import render
from worker.models import Article, AudienceArticle

META = FeedMeta(
    audience="global", section="all", title="All", base_url="http://127.0.0.1:8000", language="en"
)


def _item(tags: int) -> AudienceArticle:
    article = Article(
        id="bench-tags",
        source="bench",
        url="https://www.rferl.org/a/bench.html",
        title="An article with many tags",
        published_at=datetime(2026, 11, 1, tzinfo=UTC),
        language="en",
        section="World",
        tags=[f"tag number {i}" for i in range(tags)],
        summary="Summary.",
        body_text="Body.",
        body_html="<p>Body.</p>",
        content_hash="bench",
    )
    return AudienceArticle(audience="global", article=article)


def _seconds(tags: int, repeats: int) -> float:
    """The fastest of ``repeats`` renders of the item in all three formats."""
    item = _item(tags)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for fmt in formats.names():
            render(fmt, META, [item])
        best = min(best, time.perf_counter() - started)
    return best


def tags(small: int = 1000, large: int = 10_000, repeats: int = 3) -> dict[str, Any]:
    s, big = _seconds(small, repeats), _seconds(large, repeats)
    per_small, per_large = s / small, big / large
    ratio = round(per_large / per_small, 2)
    return {
        "scenario": "tags",
        "small_tags": small,
        "large_tags": large,
        "small_item_seconds": round(s, 4),
        "large_item_seconds": round(big, 4),
        "small_us_per_tag": round(per_small * 1e6, 2),
        "large_us_per_tag": round(per_large * 1e6, 2),
        "ratio": ratio,
        "target": "<= 1.5 (linear; quadratic would be about large/small)",
        "met": ratio <= 1.5,
        "summary_ours": f"{s:.3f} s @ {small} tags, {big:.3f} s @ {large} tags",
        "summary_base": "-",
    }
