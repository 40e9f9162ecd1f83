"""The orchestrator: the stages of an article's life, in order.

1. ``accept``: normalize raw input (pure) and keep the article safely in Redis (staged).
2. ``ingest_many``: compare each article with its stored version, attach notices per audience,
   decide visibility, and commit indexes, dirty feeds, events and deliveries in one transaction
   per batch.
3. ``worker.publish.publish``: render every dirty feed once per burst.
4. ``worker.deliver.attempt_many``: send signed webhook attempts, schedule the next on failure.

``sweep`` runs beside them in every worker and sends again whatever work is due: retries whose
time has come and work held by a worker that died.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from feeds.feedkey import ALL, FeedKey
from worker.ingest import plan_ingest
from worker.lifecycle import KILLED, decide
from worker.models import Article, IngestCommit, RawInput, iso_utc
from worker.normalize import NormalizeError, normalize
from worker.runtime import Nudger, Runtime
from worker.storage import Store
from worker.storage.work import HEARTBEAT_TTL

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
    previous = store.articles_by_id(list(staged))
    kills = store.kills(list(staged))
    subs = rt.subscriptions_by_audience()
    at = datetime.now(UTC)
    outcome = dict.fromkeys(article_ids, "nothing staged")
    commits: list[tuple[str, IngestCommit]] = []
    for aid, raw in staged.items():
        try:
            article = Article.model_validate_json(raw)
        except ValueError as exc:
            where = f"staged article {aid} is not a valid article"
            reason = reject(store, "ingest", exc, {"id": aid, "staged": raw[:2000]}, where)
            store.reject(aid, reason)
            outcome[aid] = "rejected"
            continue
        commit = plan_ingest(
            article,
            previous.get(aid),
            audiences=rt.config.audiences,
            notices=rt.config.notices,
            publishers=rt.config.publishers,
            subscriptions=subs,
            at=at,
            payload_cap=rt.settings.webhook_payload_cap,
            kill=kills.get(aid),
        )
        if commit is None:
            store.drop_staged(aid, raw)
            outcome[aid] = "unchanged"
        else:
            commits.append((raw, commit))
    if commits and not store.commit_many(commits):
        # An input was staged again meanwhile. Alone, it is left for the sweeper (its new version
        # is due); in a batch, each article is committed on its own.
        for _, commit in commits:
            aid = commit.article.id
            outcome[aid] = ingest(rt, aid, nudge) if len(commits) > 1 else "busy: staged again; retried later"
        return [outcome[a] for a in article_ids]
    for _, commit in commits:
        outcome[commit.article.id] = f"version {commit.version}"
        log.info("article committed", extra={"article_id": commit.article.id, "version": commit.version})
    if commits:
        nudge.publish()
        deliveries = [d.id for _, c in commits for d in c.deliveries]
        if deliveries:
            nudge.deliver(deliveries)
    return [outcome[a] for a in article_ids]


def sweep(rt: Runtime, nudge: Nudger) -> dict[str, int]:
    """Send again whatever work is due. Safe to run anywhere, any number of times."""
    store = rt.store
    grace = rt.settings.redeliver_after
    sent = {"ingest": 0, "life": 0, "deliver": 0, "publish": 0}
    ingest_ids = store.due_take("ingest", recheck_in=grace)
    if ingest_ids:
        nudge.ingest(ingest_ids)
        sent["ingest"] = len(ingest_ids)
    # Looked at again after an attempt's timeout, or once a lost worker's heartbeat has expired if
    # that comes first: a recheck while the holder lives is a no-op ("held by another worker").
    recheck = max(grace, min(rt.settings.webhook_timeout + 5, HEARTBEAT_TTL + grace))
    # Embargoes that lift, expiries that come, kills and their undoing: looked at again after the
    # grace if the revisit did not settle them (its worker died, say).
    life_ids = store.due_take("life", recheck_in=grace)
    if life_ids:
        nudge.revisit(life_ids)
        sent["life"] = len(life_ids)
    delivery_ids = store.due_take("deliver", recheck_in=recheck)
    if delivery_ids:
        nudge.deliver(delivery_ids)
        sent["deliver"] = len(delivery_ids)
    # Notices come into and out of force by date: render everything again once a day.
    if store.claim_marker("render-day", datetime.now(UTC).date().isoformat()):
        mark_all_feeds_dirty(rt)
    if store.dirty_due():  # feeds backing off after a failed render wait for their time
        nudge.publish()
        sent["publish"] = 1
    return sent


def mark_all_feeds_dirty(rt: Runtime) -> None:
    """Render every feed again (start-up and configuration changes: notices may differ)."""
    sections = list(rt.store.sections())
    feeds = [FeedKey(a.id, s) for a in rt.config.audiences for s in [ALL, *sections]]
    rt.store.mark_dirty([str(feed) for feed in feeds])


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
        commit = plan_ingest(
            stored.article,
            stored,
            audiences=rt.config.audiences,
            notices=rt.config.notices,
            publishers=rt.config.publishers,
            subscriptions=subs,
            at=at,
            payload_cap=rt.settings.webhook_payload_cap,
            revisit=True,
            kill=kills.get(aid),
        )
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
        return False
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
    reason = store.rejected_reason(article_id)
    if reason is not None:
        return {"id": article_id, "status": "rejected", "reason": reason}
    return None
