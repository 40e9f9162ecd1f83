"""The orchestrator: the stages of an article's life, in order.

1. ``accept``: normalize raw input (pure) and keep the article safely in Redis (staged).
2. ``ingest_many``: compare each article with its stored version, attach notices per audience,
   decide visibility, and commit indexes, dirty feeds, events and deliveries in one transaction
   per batch.
3. ``worker.publish.publish``: render every dirty feed once per burst.
4. ``worker.deliver.attempt_many``: send signed webhook attempts, schedule the next on failure.

``worker.sweeper.sweep`` runs beside them in every worker and sends again whatever work is due:
retries whose time has come and work held by a worker that died.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from worker.ingest import plan_ingest
from worker.lifecycle import KILLED, decide
from worker.models import Article, IngestCommit, RawInput, StoredArticle, Subscription, iso_utc
from worker.normalize import NormalizeError, normalize
from worker.retire import retired_status
from worker.runtime import Nudger, Runtime
from worker.storage import Store

log = logging.getLogger("syndicate.pipeline")


def accept(rt: Runtime, raw: RawInput, *, restore: bool = False) -> Article:
    """Normalize and stage. Raises ``NormalizeError`` (bad input) or ``StorageUnavailable``.
    ``restore``: undo an operator's kill of the article (else a killed article stays withdrawn)."""
    article = normalize(raw, rt.config.notices, rt.config.publishers, received_at=datetime.now(UTC))
    rt.store.stage(article, restore=restore)
    return article


def accept_or_dead_letter(rt: Runtime, raw: dict[str, object], origin: str) -> Article | None:
    """For inputs that come through a queue: a bad one is dead-lettered with its reason."""
    try:
        article = accept(rt, RawInput.model_validate(raw))
    except (NormalizeError, ValueError) as exc:
        reject(rt.store, origin, exc, {k: str(v)[:2000] for k, v in raw.items()})
        return None
    return article


def reason_of(error: Exception | str, where: str = "") -> str:
    """The one form of a rejection's reason: one line, ``where: what`` (``where`` names the item:
    a file, a feed item, a staged id), the error's first line or its type when it says nothing."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return f"{where}: {text}" if where and not text.startswith(where) else text


def reject(
    store: Store,
    origin: str,
    error: Exception | str,
    item: dict[str, Any],
    where: str = "",
    *,
    logged: bool = True,
) -> str:
    """Every input path's rejection (HTTP answers its caller instead): a dead letter naming the
    origin (``task``, ``cli``, ``poll``, ``ingest``), the reason in its one form, and a log line
    (``logged=False``: the caller tells its user itself, as the CLI does in one line on stderr)."""
    reason = reason_of(error, where)
    store.add_dead_letter(reason, origin, item)
    if logged:
        log.warning("input rejected", extra={"origin": origin, "reason": reason})
    return reason


def ingest(rt: Runtime, article_id: str, nudge: Nudger) -> str:
    """Commit the staged version of ``article_id``; idempotent (a repeat finds nothing staged)."""
    return ingest_many(rt, [article_id], nudge)[0]


def ingest_many(rt: Runtime, article_ids: list[str], nudge: Nudger) -> list[str]:
    """Commit the staged versions of ``article_ids`` in one transaction (a few round trips for the
    whole batch); if any staged input changes meanwhile, each is committed on its own instead."""
    store = rt.store
    staged = store.staged_many(article_ids)
    outcome = dict.fromkeys(article_ids, "nothing staged")
    articles: list[tuple[str, Article]] = []
    for aid, raw in staged.items():
        try:
            articles.append((raw, Article.model_validate_json(raw)))
        except ValueError as exc:
            where = f"staged article {aid} is not a valid article"
            reason = reject(store, "ingest", exc, {"id": aid, "staged": raw[:2000]}, where)
            store.reject(aid, reason)
            outcome[aid] = "rejected"
    commits: list[tuple[str | None, IngestCommit]] = []
    for (raw, article), commit in zip(articles, _plan(rt, [a for _, a in articles]), strict=True):
        if commit is None:
            store.drop_staged(article.id, raw)
            outcome[article.id] = "unchanged"
        else:
            commits.append((raw, commit))
    if commits and not store.commit_many(commits):
        # An input was staged again meanwhile. Alone, it is left for the sweeper (its new version
        # is due); in a batch, each article is committed on its own.
        for _, commit in commits:
            aid = commit.article.id
            outcome[aid] = ingest(rt, aid, nudge) if len(commits) > 1 else "busy: staged again; retried later"
        return [outcome[a] for a in article_ids]
    outcome.update(_committed(commits, nudge))
    return [outcome[a] for a in article_ids]


def commit_normalized(rt: Runtime, articles: list[Article], nudge: Nudger) -> dict[str, str] | None:
    """Commit articles straight from the normalizer, without staging them first (``syndicate
    ingest``: the command waits for its articles to be stored anyway, so the queue hop would
    only add a Redis round trip of every article and a worker's read of it back).

    One transaction for all; None (nothing written) when any of them is staged, killed or
    committed by someone else meanwhile: the caller stages them instead, for the ingest queue
    to sort out in order. Else each id's outcome (``version N`` or ``unchanged``)."""
    commits: list[tuple[str | None, IngestCommit]] = []
    outcome: dict[str, str] = {}
    for article, commit in zip(articles, _plan(rt, articles), strict=True):
        if commit is None:
            outcome[article.id] = "unchanged"
        else:
            commits.append((None, commit))
    if not commits:
        rt.store.confirm_stored()  # stored before, perhaps not yet on the replicas asked for
    elif not rt.store.commit_many(commits):
        return None
    outcome.update(_committed(commits, nudge))
    return outcome


def _plan(rt: Runtime, articles: list[Article]) -> list[IngestCommit | None]:
    """``plan_ingest`` of each article against its stored version, with the kills in force, in
    order (None: nothing would change)."""
    store = rt.store
    ids = [a.id for a in articles]
    previous = store.articles_by_id(ids)
    kills = store.kills(ids)
    subs = rt.subscriptions_by_audience()
    at = datetime.now(UTC)
    retired = store.tombstones(ids)  # a retired article is never published again: "unchanged"
    return [
        None if a.id in retired else _planned(rt, a, previous.get(a.id), subs, at, kills.get(a.id))
        for a in articles
    ]


def _planned(
    rt: Runtime,
    article: Article,
    previous: StoredArticle | None,
    subs: dict[str, list[Subscription]],
    at: datetime,
    kill: str | None,
    *,
    revisit: bool = False,
) -> IngestCommit | None:
    """``plan_ingest`` under this runtime's configuration and settings."""
    return plan_ingest(
        article,
        previous,
        audiences=rt.config.audiences,
        notices=rt.config.notices,
        publishers=rt.config.publishers,
        subscriptions=subs,
        at=at,
        payload_cap=rt.settings.webhook_payload_cap,
        revisit=revisit,
        kill=kill,
    )


def _committed(commits: list[tuple[str | None, IngestCommit]], nudge: Nudger) -> dict[str, str]:
    """After a commit: its log lines, one render nudge, and the nudge of its deliveries."""
    for _, commit in commits:
        log.info("article committed", extra={"article_id": commit.article.id, "version": commit.version})
    if commits:
        nudge.publish()
        deliveries = [d.id for _, c in commits for d in c.deliveries]
        if deliveries:
            nudge.deliver(deliveries)
    return {c.article.id: f"version {c.version}" for _, c in commits}


def revisit(rt: Runtime, article_ids: list[str], nudge: Nudger, *, due: bool = False) -> int:
    """Apply the configuration, the clock and the kills in force to stored articles: their
    audiences after a change of audiences or regions, an embargo that lifts, an expiry that
    comes, a kill or its undoing. Index changes, and published/withdrawn events where visibility
    flips. Returns how many changed. Safe to repeat; an article with new input staged is left to
    its ingest, which applies all of that anyway. ``due``: the ids came from the life-cycle due
    times (or a kill), whose entries are settled here when nothing changes (a reindex leaves them)."""
    store = rt.store
    previous = store.articles_by_id(article_ids)
    kills = store.kills(article_ids)
    subs = rt.subscriptions_by_audience()
    at = datetime.now(UTC)
    changed, deliveries = 0, []
    for aid in article_ids:
        stored = previous.get(aid)
        if stored is None:  # not ingested yet (its ingest decides) or never was
            if due:
                store.settle_life(aid, 0, None)
            continue
        commit = _planned(rt, stored.article, stored, subs, at, kills.get(aid), revisit=True)
        if commit is None and due:
            nxt = decide(stored.article, at, kills.get(aid)).next_change
            store.settle_life(aid, stored.version, nxt.timestamp() if nxt else None)
        elif commit is not None and store.commit_revisit(commit, stored.version):
            changed += 1
            deliveries += [d.id for d in commit.deliveries]
            log.info(
                "article revisited",
                extra={"article_id": aid, "version": commit.version, "status": commit.status},
            )
    if changed:
        nudge.publish()
    if deliveries:
        nudge.deliver(deliveries)
    return changed


REASON_LIMIT = 500  # characters of a kill's reason


def withdraw(rt: Runtime, article_id: str, reason: str | None, nudge: Nudger) -> bool:
    """Kill an article (an operator's withdrawal): out of every feed and archive page, with
    ``article.withdrawn`` wherever it was shown, and kept out across re-ingests until
    ``restore``. False when no such article is stored or queued. The kill and its due time are
    written first, so the sweeper finishes the job if this process dies before the revisit."""
    if rt.store.article(article_id) is None and rt.store.staged(article_id) is None:
        return retired_status(rt.store, article_id) is not None  # retired: in no feed already
    rt.store.kill(article_id, kill_reason(reason))
    revisit(rt, [article_id], nudge, due=True)
    return True


def restore(rt: Runtime, article_id: str, nudge: Nudger) -> bool:
    """Undo a kill: the article is shown again where its audiences and life cycle allow (an
    ``article.published`` event, never ``article.updated``). False when it was not killed."""
    if not rt.store.unkill(article_id):
        return False
    revisit(rt, [article_id], nudge, due=True)
    return True


def kill_reason(reason: str | None) -> str:
    """The reason as stored and shown: one line, at most ``REASON_LIMIT`` characters."""
    text = " ".join((reason or "").split())
    if len(text) > REASON_LIMIT:
        raise ValueError(f"reason: {len(text)} characters is over the limit of {REASON_LIMIT} (shorten it)")
    return text or KILLED


def article_status(store: Store, article_id: str) -> dict[str, Any] | None:
    """What ``GET /articles/{id}`` answers (and ``syndicate withdraw`` prints); None: no such article."""
    stored = store.article(article_id)
    if store.staged(article_id) is not None:
        return {"id": article_id, "status": "queued"}
    if stored is not None:
        doc: dict[str, Any] = {"id": article_id, "status": stored.status}
        if stored.status == "embargoed":
            until = stored.article.embargoed_until if stored.reason is None else None
            doc["embargoed_until"] = iso_utc(until) if until else None
        if stored.reason is not None:
            doc["reason"] = stored.reason
        doc.update(version=stored.version, audiences=stored.audiences, article=stored.article.to_public())
        return doc
    retired = retired_status(store, article_id)
    if retired is not None:
        return retired
    reason = store.rejected_reason(article_id)
    if reason is not None:
        return {"id": article_id, "status": "rejected", "reason": reason}
    return None
