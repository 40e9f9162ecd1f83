"""The orchestrator: the stages of an article's life, in order.

1. ``accept``: normalize raw input (pure) and keep the article safely in Redis (staged).
2. ``ingest``: compare with the stored version, attach notices per audience, decide visibility,
   and commit indexes, dirty feeds, events and deliveries in one transaction.
3. ``worker.publish.publish``: render every dirty feed once per burst.
4. ``worker.deliver.attempt``: send one signed webhook attempt, schedule the next on failure.

``sweep`` runs beside them in every worker and sends again whatever work is due: retries whose
time has come and work held by a worker that died.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, datetime

from worker.ingest import plan_ingest
from worker.models import Article, RawInput
from worker.normalize import NormalizeError, normalize
from worker.runtime import Nudger, Runtime

log = logging.getLogger("syndicate.pipeline")


def accept(rt: Runtime, raw: RawInput) -> Article:
    """Normalize and stage. Raises ``NormalizeError`` (bad input) or ``StorageUnavailable``."""
    article = normalize(raw, rt.config.notices)
    rt.store.stage(article)
    return article


def accept_or_dead_letter(rt: Runtime, raw: dict[str, object], origin: str) -> Article | None:
    """For inputs that come through a queue: a bad one is dead-lettered with its reason."""
    try:
        article = accept(rt, RawInput.model_validate(raw))
    except (NormalizeError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        rt.store.add_dead_letter(reason, origin, {k: str(v)[:2000] for k, v in raw.items()})
        log.warning("input rejected", extra={"origin": origin, "reason": reason})
        return None
    return article


def ingest(rt: Runtime, article_id: str, nudge: Nudger) -> str:
    """Commit the staged version of ``article_id``; idempotent (a repeat finds nothing staged)."""
    store = rt.store
    for _ in range(5):
        staged = store.staged(article_id)
        if staged is None:
            return "nothing staged"
        try:
            article = Article.model_validate_json(staged)
        except ValueError as exc:
            reason = f"staged article {article_id} is not a valid article: {str(exc).splitlines()[0]}"
            store.add_dead_letter(reason, "ingest", {"id": article_id, "staged": staged[:2000]})
            store.reject(article_id, reason)
            return "rejected"
        subs = defaultdict(list)
        for sub in store.subscriptions():
            subs[sub.audience].append(sub)
        commit = plan_ingest(
            article,
            store.article(article_id),
            audiences=rt.config.audiences,
            notices=rt.config.notices,
            subscriptions=subs,
            at=datetime.now(UTC),
            payload_cap=rt.settings.webhook_payload_cap,
        )
        if commit is None:
            store.drop_staged(article_id, staged)
            return "unchanged"
        if store.commit_ingest(staged, commit):
            log.info("article committed", extra={"article_id": article_id, "version": commit.version})
            nudge.publish()
            if commit.deliveries:
                nudge.deliver([d.id for d in commit.deliveries])
            return f"version {commit.version}"
    return "busy: staged version kept changing; the sweeper will retry"


def sweep(rt: Runtime, nudge: Nudger) -> dict[str, int]:
    """Send again whatever work is due. Safe to run anywhere, any number of times."""
    store = rt.store
    grace = rt.settings.redeliver_after
    sent = {"ingest": 0, "deliver": 0, "publish": 0}
    ingest_ids = store.due_take("ingest", recheck_in=grace)
    if ingest_ids:
        nudge.ingest(ingest_ids)
        sent["ingest"] = len(ingest_ids)
    delivery_ids = store.due_take("deliver", recheck_in=max(grace, rt.settings.webhook_timeout + 5))
    if delivery_ids:
        nudge.deliver(delivery_ids)
        sent["deliver"] = len(delivery_ids)
    # Notices come into and out of force by date: render everything again once a day.
    if store.claim_marker("render-day", datetime.now(UTC).date().isoformat()):
        mark_all_feeds_dirty(rt)
    if store.dirty():
        nudge.publish()
        sent["publish"] = 1
    return sent


def mark_all_feeds_dirty(rt: Runtime) -> None:
    """Render every feed again (start-up and configuration changes: notices may differ)."""
    sections = list(rt.store.sections())
    feeds = [f"{a.id}/{s}" for a in rt.config.audiences for s in ["all", *sections]]
    rt.store.mark_dirty(feeds)
