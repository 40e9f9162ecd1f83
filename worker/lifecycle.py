"""The newsroom's life cycle of one article: embargo, expiry, kill. Pure, the clock passed in.

``decide`` says, from the article, an operator's kill (if any) and the time, whether the article
may be shown at all, and when that answer changes by the clock alone. Which audiences see a
shown article is ``worker.notices``' business; this comes first and overrides it.

In order (the first that applies wins):

1. killed by an operator (``DELETE /articles/{id}``, ``syndicate withdraw``): withdrawn, with the
   operator's reason; it stays so across re-ingests until the kill is undone;
2. ``pub_status`` ``canceled`` (the source withdrew it): withdrawn, ``canceled by source``;
3. ``expires_at`` reached: withdrawn, ``expired`` (also when it arrives already expired);
4. ``pub_status`` ``withheld``: embargoed, with no time (held until an update says ``usable``);
5. ``embargoed_until`` in the future: embargoed until then;
6. otherwise published.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from worker.models import Article

LifeStatus = Literal["published", "embargoed", "withdrawn"]
EXPIRED = "expired"
CANCELED = "canceled by source"
WITHHELD = "withheld by source"
KILLED = "withdrawn by an operator"  # the reason of a kill that gave none


@dataclass(frozen=True)
class Life:
    status: LifeStatus
    reason: str | None = None
    until: datetime | None = None  # the embargo's end, when embargoed by time
    next_change: datetime | None = None  # when the clock alone changes this decision

    @property
    def shown(self) -> bool:
        return self.status == "published"


def decide(article: Article, now: datetime, kill: str | None = None) -> Life:
    """The article's state at ``now``; ``kill`` is the reason of an operator's kill, if any."""
    if kill is not None:
        return Life("withdrawn", kill or KILLED)
    if article.pub_status == "canceled":
        return Life("withdrawn", CANCELED)
    now = _aware(now)
    expires = _aware(article.expires_at) if article.expires_at else None
    if expires is not None and now >= expires:
        return Life("withdrawn", EXPIRED)
    if article.pub_status == "withheld":
        return Life("embargoed", WITHHELD, next_change=expires)
    embargo = _aware(article.embargoed_until) if article.embargoed_until else None
    if embargo is not None and now < embargo:
        return Life("embargoed", until=embargo, next_change=min(embargo, expires or embargo))
    return Life("published", next_change=expires)


def shown_at(article: Article, now: datetime) -> bool:
    """Whether the article's own dates and status allow it to be shown at ``now`` (a kill aside):
    the renderer's last check, so that nothing outlives its expiry or precedes its embargo."""
    return decide(article, now).shown


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
