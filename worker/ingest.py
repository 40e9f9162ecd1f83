"""Plan what one new article version changes: pure, no Redis.

``plan_ingest`` compares the incoming article with the stored version and returns the writes
(indexes, dirty feeds, events, deliveries) that the storage layer then applies in one
transaction. Nothing here performs I/O, so every rule is unit-tested directly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime

from feeds.feedkey import FeedKey
from worker.events import fan_out
from worker.lifecycle import Life, decide
from worker.models import (
    Article,
    Audience,
    AudienceArticle,
    EventType,
    IngestCommit,
    Notice,
    Publisher,
    StoredArticle,
    Subscription,
)
from worker.names import section_slug
from worker.notices import audience_view


def feed_keys(audience: str, section: str | None) -> list[FeedKey]:
    """The current feeds an article of ``section`` is in: every section's, and its own."""
    keys = [FeedKey(audience)]
    if section:
        keys.append(FeedKey.of_section(audience, section))
    return keys


def plan_ingest(
    article: Article,
    previous: StoredArticle | None,
    *,
    audiences: Sequence[Audience],
    notices: Sequence[Notice],
    subscriptions: Mapping[str, Sequence[Subscription]],
    at: datetime,
    payload_cap: int,
    revisit: bool = False,
    publishers: Sequence[Publisher] = (),
    kill: str | None = None,
) -> IngestCommit | None:
    """The commit for ``article``, or None when nothing would change.

    ``kill``: the reason of an operator's kill in force (``worker.lifecycle``). An article its
    life cycle hides (embargoed, withheld, expired, canceled, killed) is visible to no audience:
    it is withdrawn where it was shown, and an article never shown leaves no trace in any feed.

    With ``revisit`` (``article`` is the stored one; the configuration, the clock or a kill may
    have changed), and for an input identical to the stored article: the commit only if the
    audiences it is visible to or its status changed, with events only for those flips
    (``article.published`` / ``article.withdrawn``), never ``article.updated``."""
    if not revisit and previous is not None and previous.article.content_hash == article.content_hash:
        # Same content, dates included, yet another published_at: the time received stood in
        # for a date the source never stated. The first one stays.
        article = article.model_copy(update={"published_at": previous.article.published_at})
    revisit = revisit or (previous is not None and previous.article == article)
    life = decide(article, at, kill)
    version = 1 if previous is None else previous.version + 1
    was_visible = set(previous.audiences) if previous else set()
    commit = IngestCommit(
        article=article,
        version=version,
        status=life.status,
        reason=life.reason,
        kill=kill,
        life_due=life.next_change.timestamp() if life.next_change else None,
        embargo_end=_embargo_end(life),
    )
    slug = section_slug(article.section) if article.section else None
    if slug and article.section and life.shown:  # an embargoed section stays unknown
        commit.section = (slug, article.section)
    for audience in audiences:
        view = (
            audience_view(article, audience, audiences, notices, at.date(), publishers)
            if life.shown
            else None
        )
        _index(commit, audience.id, view is not None, previous, at)
        event = _event_type(audience.id in was_visible, view is not None)
        if event is None or (revisit and event == "article.updated"):
            continue
        shown = view or AudienceArticle(audience=audience.id, article=article, notices=[])
        matching = [s for s in subscriptions.get(audience.id, ()) if _wants(s, event, slug)]
        if not matching:
            continue
        # One body per form the subscriptions ask for (JSON article, ninjs), one delivery each.
        payloads, deliveries = fan_out(
            event, shown, matching, at, version=commit.version, payload_cap=payload_cap
        )
        commit.payloads.update(payloads)
        commit.events += 1
        commit.deliveries.extend(deliveries)
    if revisit and previous is not None and _same_state(commit, previous):
        return None
    if life.shown and not commit.audiences:
        commit.status = "withdrawn"  # restricted in every audience
    return commit


def _index(
    commit: IngestCommit, aid: str, visible: bool, previous: StoredArticle | None, at: datetime
) -> None:
    """The index writes and dirty feeds of one audience. An article hidden by its life cycle that
    this audience never saw marks no feed dirty (no render, no WebSub ping to reveal it)."""
    article = commit.article
    keys = feed_keys(aid, article.section)
    if visible or commit.status == "published" or (previous is not None and aid in previous.audiences):
        commit.dirty.extend(str(k) for k in keys)
    old_section = previous.article.section if previous else None
    if old_section and old_section != article.section:
        stale = FeedKey.of_section(aid, old_section)
        commit.index_remove.append(stale.index)
        commit.dirty.append(str(stale))
    suffixes = [k.index for k in keys]
    if not visible:
        commit.index_remove.extend(suffixes)
        return
    commit.audiences.append(aid)
    score = (article.published_at or at).timestamp()
    for suffix in suffixes:
        commit.index_add[suffix] = score


def _embargo_end(life: Life) -> float | None:
    if life.status != "embargoed":
        return None
    return life.until.timestamp() if life.until else math.inf


def _same_state(commit: IngestCommit, previous: StoredArticle) -> bool:
    """Nothing to write: the same audiences, status and reason as stored."""
    status = "withdrawn" if commit.status == "published" and not commit.audiences else commit.status
    return (set(commit.audiences), status, commit.reason) == (
        set(previous.audiences),
        previous.status,
        previous.reason,
    )


def _event_type(was_visible: bool, visible: bool) -> EventType | None:
    if visible and not was_visible:
        return "article.published"
    if visible and was_visible:
        return "article.updated"
    if was_visible and not visible:
        return "article.withdrawn"
    return None


def _wants(sub: Subscription, event: EventType, slug: str | None) -> bool:
    if not sub.enabled or event not in sub.events:
        return False
    if not sub.sections:
        return True
    return slug is not None and slug in {section_slug(s) for s in sub.sections}
