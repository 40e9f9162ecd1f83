"""``syndicate withdraw``: an operator's kill and its undoing; the embargo line of ``status``."""

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


def embargo_summary(store: Any) -> dict[str, Any]:
    """``{"count", "next": {"id", "at"} | None}``: the embargoed articles and the next to lift."""
    count, first, at = store.embargoes()
    nxt = None
    if first is not None and at is not None:
        nxt = {"id": first, "at": datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    return {"count": count, "next": nxt}
