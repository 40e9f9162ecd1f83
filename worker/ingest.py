"""Plan what one new article version changes: pure, no Redis.

``plan_ingest`` compares the incoming article with the stored version and returns the writes
(indexes, dirty feeds, events, deliveries) that the storage layer then applies in one
transaction. Nothing here performs I/O, so every rule is unit-tested directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from feeds.feedkey import FeedKey
from worker.events import fan_out
from worker.models import (
    Article,
    Audience,
    AudienceArticle,
    EventType,
    Notice,
    Publisher,
    Subscription,
)
from worker.names import section_slug
from worker.notices import audience_view
from worker.storage.articles import IngestCommit, StoredArticle


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
) -> IngestCommit | None:
    """The commit for ``article``, or None when it is identical to the stored version.

    With ``revisit`` (``article`` is the stored one, the configuration may have changed): the
    commit only if the audiences it is visible to changed, with events only for those flips
    (``article.published`` / ``article.withdrawn``), never ``article.updated``."""
    if not revisit and previous is not None and previous.article.content_hash == article.content_hash:
        # Same content, dates included, yet another published_at: the time received stood in
        # for a date the source never stated. The first one stays.
        article = article.model_copy(update={"published_at": previous.article.published_at})
    if not revisit and previous is not None and previous.article == article:
        return None
    today: date = at.date()
    version = 1 if previous is None else previous.version + 1
    was_visible = set(previous.audiences) if previous else set()
    score = (article.published_at or at).timestamp()
    slug = section_slug(article.section) if article.section else None
    old_section = previous.article.section if previous else None
    commit = IngestCommit(article=article, version=version, status="published")
    if slug and article.section:
        commit.section = (slug, article.section)
    for audience in audiences:
        aid = audience.id
        view = audience_view(article, audience, audiences, notices, today, publishers)
        keys = feed_keys(aid, article.section)
        commit.dirty.extend(str(k) for k in keys)
        if old_section and old_section != article.section:
            stale = FeedKey.of_section(aid, old_section)
            commit.index_remove.append(stale.index)
            commit.dirty.append(str(stale))
        suffixes = [k.index for k in keys]
        if view is None:
            commit.index_remove.extend(suffixes)
        else:
            commit.audiences.append(aid)
            for suffix in suffixes:
                commit.index_add[suffix] = score
        event = _event_type(aid in was_visible, view is not None)
        if event is None or (revisit and event == "article.updated"):
            continue
        shown = view or AudienceArticle(audience=aid, article=article, notices=[])
        matching = [s for s in subscriptions.get(aid, ()) if _wants(s, event, slug)]
        if not matching:
            continue
        # One body per form the subscriptions ask for (JSON article, ninjs), one delivery each.
        payloads, deliveries = fan_out(event, shown, matching, at, version=version, payload_cap=payload_cap)
        commit.payloads.update(payloads)
        commit.events += 1
        commit.deliveries.extend(deliveries)
    if revisit and set(commit.audiences) == was_visible:
        return None
    if not commit.audiences:
        commit.status = "withdrawn"
    return commit


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
