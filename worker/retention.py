"""``SYNDICATE_RETENTION_DAYS``: which archive pages and articles may be retired. Pure, no Redis.

The rule, per feed (one index and its RFC 5005 archive):

1. An article is *old* when it was published (``published_at``) before the cutoff (now minus the
   retention), it is in no feed window (the newest ``feed_window`` items of every index, plus each
   current feed's items not yet on a full archive page), and nothing pending may still change it
   (new input staged, an embargo or another life-cycle instant due).
2. A full archive page is *retirable* when every article on it is old and every earlier page of
   its feed is retired or retirable: pages retire oldest first, so the ``prev-archive`` chain
   from the current feed never has a gap (the oldest page still served links no further back).
   The page being filled (not yet full) is never retired: its items are in the current feed.
3. An article is *retired* (its record replaced by a tombstone) once the last archive page it is
   on, in any feed, has retired: no page or feed still served refers to it.

A page whose article is still in some window (a quiet section's current feed, say) holds that
page, and every later page of its feed, until the article leaves the window.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

DAY = 86400.0


def cutoff(now: float, retention_days: float) -> float | None:
    """The instant before which an article counts as old; None when retention is off (0)."""
    return None if retention_days <= 0 else now - retention_days * DAY


@dataclass(frozen=True)
class ArticleAge:
    """What the rule needs of one article on a candidate page."""

    published: float | None  # published_at as a timestamp (None: unknown, never old)
    pending: bool = False  # staged input, or a life-cycle instant still due


@dataclass(frozen=True)
class FeedPages:
    """One feed's archive as the rule sees it: its full pages from the first not retired on."""

    suffix: str
    retired_through: int  # pages 1..retired_through are retired already
    full: int  # full pages (the page after them is being filled)
    pages: Mapping[int, Sequence[str]]  # page -> its article ids, for the candidate pages read


@dataclass
class Plan:
    pages: dict[str, list[int]] = field(default_factory=dict)  # suffix -> pages to retire, in order

    @property
    def page_count(self) -> int:
        return sum(len(p) for p in self.pages.values())


def is_old(age: ArticleAge | None, aid: str, before: float, windows: Collection[str]) -> bool:
    """Rule 1 for one article (an article without a record is old: nothing refers to it)."""
    if aid in windows:
        return False
    if age is None:
        return True
    return not age.pending and age.published is not None and age.published < before


def retirable_pages(
    feed: FeedPages, ages: Mapping[str, ArticleAge], before: float, windows: Collection[str], limit: int
) -> list[int]:
    """Rule 2: the pages of ``feed`` to retire now, oldest first, at most ``limit``."""
    out: list[int] = []
    page = feed.retired_through + 1
    while page <= feed.full and len(out) < limit and page in feed.pages:
        if not all(is_old(ages.get(aid), aid, before, windows) for aid in feed.pages[page]):
            break
        out.append(page)
        page += 1
    return out


def plan_retirement(
    feeds: Sequence[FeedPages],
    ages: Mapping[str, ArticleAge],
    windows: Collection[str],
    before: float,
    limit: int,
) -> Plan:
    """The pages to retire in one bounded step: at most ``limit`` pages in all."""
    plan = Plan()
    for feed in feeds:
        left = limit - plan.page_count
        if left <= 0:
            break
        pages = retirable_pages(feed, ages, before, windows, left)
        if pages:
            plan.pages[feed.suffix] = pages
    return plan


def tombstoned(candidates: Collection[str], still_archived: Collection[str]) -> list[str]:
    """Rule 3: of the articles on pages being retired, those on no other page (sorted)."""
    return sorted(set(candidates) - set(still_archived))
