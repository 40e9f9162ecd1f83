"""``syndicate withdraw``: an operator's kill and its undoing; ``syndicate retire``; the embargo
line of ``status``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import typer

from worker.cli.common import fail, runtime_or_fail


def withdraw(
    article_id: str = typer.Argument(..., help="The article's id (as POST /articles answered it)."),
    reason: str | None = typer.Option(None, "--reason", help="Why: shown by GET /articles/{id}."),
    undo: bool = typer.Option(False, "--undo", help="Bring a withdrawn article back."),
) -> None:
    """Kill an article: gone from every feed and archive page within seconds, `article.withdrawn`
    to every subscription that was sent it. A later re-ingest of the same item does not bring it
    back; `--undo` (or `POST /articles?restore=1`) does. Prints the article's status.

    Example: `syndicate withdraw rferl-3a1f0c --reason "legal takedown"`
    """
    from worker import pipeline
    from worker.nudger import nudger
    from worker.storage import StorageUnavailable

    if undo and reason is not None:
        fail("--reason and --undo do not go together (an undo has no reason)", code=2)
    rt = runtime_or_fail()
    try:
        if undo:
            if not pipeline.restore(rt, article_id, nudger):
                fail(f"article '{article_id}' is not withdrawn by an operator: nothing to undo", code=2)
        elif not pipeline.withdraw(rt, article_id, reason, nudger):
            fail(f"no article with id '{article_id}' (see GET /articles/{{id}})", code=2)
    except ValueError as exc:
        fail(str(exc), code=2)
    except StorageUnavailable as exc:
        fail(f"{exc} (nothing is certain to be withdrawn: run the command again)")
    doc = pipeline.article_status(rt.store, article_id) or {"id": article_id}
    doc.pop("article", None)
    typer.echo(json.dumps(doc, ensure_ascii=False))


def retire(
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what would go; change nothing."),
    max_pages: int = typer.Option(
        0, "--max-pages", min=0, help="Stop after this many archive pages (0: until none is left)."
    ),
) -> None:
    """Retire what SYNDICATE_RETENTION_DAYS allows now (the workers' sweepers also do it, a step a
    minute): archive pages whose every article was published more than that many days ago and
    is in no feed window stop being served (410), oldest first, and an article whose last page
    went keeps only a tombstone (a re-ingest of it is unchanged). Prints
    `{"pages", "articles", "feeds"}` (a dry run: pages that would go and the articles on them).

    Example: `SYNDICATE_RETENTION_DAYS=365 syndicate retire --dry-run`
    """
    from worker.retire import STEP_PAGES
    from worker.retire import retire as run
    from worker.storage import StorageUnavailable

    rt = runtime_or_fail()
    if rt.settings.retention_days <= 0:
        fail("SYNDICATE_RETENTION_DAYS is 0 (keep everything): set it to a number of days", code=2)
    total: dict[str, Any] = {"pages": 0, "articles": 0, "feeds": {}}
    try:
        while not max_pages or total["pages"] < max_pages:
            # a dry run counts in one pass; a real one retires a step at a time, each its own lock
            limit = min(max_pages - total["pages"], STEP_PAGES) if max_pages else STEP_PAGES
            step = run(rt, limit=(max_pages or 1 << 30) if dry_run else limit, dry_run=dry_run)
            if step.skipped:
                fail(f"nothing retired: {step.skipped}")
            total["pages"] += step.pages
            total["articles"] += step.articles
            for suffix, n in step.feeds.items():
                total["feeds"][suffix] = total["feeds"].get(suffix, 0) + n
            if dry_run or not step.pages:
                break
    except StorageUnavailable as exc:
        fail(f"{exc} (pages retired so far stay retired: run the command again)")
    typer.echo(json.dumps({**total, "dry_run": dry_run}, ensure_ascii=False))


def embargo_summary(store: Any) -> dict[str, Any]:
    """``{"count", "next": {"id", "at"} | None}``: the embargoed articles and the next to lift."""
    count, first, at = store.embargoes()
    nxt = None
    if first is not None and at is not None:
        nxt = {"id": first, "at": datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    return {"count": count, "next": nxt}
