"""The sweeper: beside the pipeline in every worker, it sends again whatever work is due.

Retries whose time has come, work held by a worker that died (its due time passed without the
work being done), embargoes and expiries whose time came, feeds to render again (once a day, for
notices that come into or out of force by date) and a step of retention. Safe to run anywhere,
any number of times: the due times in Redis are the truth, and every task is idempotent.
"""

from __future__ import annotations

from datetime import UTC, datetime

from feeds.feedkey import ALL, FeedKey
from worker.retire import maybe_retire
from worker.runtime import Nudger, Runtime
from worker.storage.work import HEARTBEAT_TTL


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
    maybe_retire(rt)  # SYNDICATE_RETENTION_DAYS: one bounded step a minute across all workers; last
    return sent


def mark_all_feeds_dirty(rt: Runtime) -> None:
    """Render every feed again (start-up and configuration changes: notices may differ)."""
    sections = list(rt.store.sections())
    feeds = [FeedKey(a.id, s) for a in rt.config.audiences for s in [ALL, *sections]]
    rt.store.mark_dirty([str(feed) for feed in feeds])
