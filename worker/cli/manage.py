"""Commands that feed the worker and look inside it."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Column, Table

from worker.cli.common import fail, runtime_or_fail
from worker.cli.lifecycle import embargo_summary

err = Console(stderr=True)


def deliveries(
    subscription: str | None = typer.Option(None, "--subscription", help="Only this subscription."),
    status: str | None = typer.Option(None, "--status", help="succeeded | failed | pending | dead"),
    limit: int = typer.Option(50, "--limit"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The delivery log, newest first.

    Example: `syndicate deliveries --subscription sub_123 --status dead`
    """
    statuses = ("pending", "succeeded", "failed", "dead")
    if status is not None and status not in statuses:
        fail(f"--status '{status}' is not one of {', '.join(statuses)}", code=2)
    rt = runtime_or_fail()
    rows = rt.store.deliveries(subscription, limit=limit, status=status)  # type: ignore[arg-type]
    if as_json:
        typer.echo(json.dumps([d.model_dump(mode="json") for d in rows], indent=2))
        return
    table = Table(
        Column("id", no_wrap=True, min_width=max((len(d.id) for d in rows), default=2)),
        Column(
            "subscription", no_wrap=True, min_width=max((len(d.subscription_id) for d in rows), default=1)
        ),
        "type",
        "status",
        "attempts",
        "code",
        Column("error", overflow="fold"),
        Column("created", no_wrap=True),
    )
    for d in rows:
        table.add_row(
            d.id,
            d.subscription_id,
            d.type,
            d.status,
            str(d.attempts),
            str(d.last_status_code or ""),
            (d.last_error or "")[:40],
            d.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        )
    _print_whole(table)


def _print_whole(table: Table) -> None:
    """Print ``table`` at least as wide as it needs: ids are never cut (a narrow terminal wraps
    the lines instead, and a pipe gets them whole)."""
    console = Console()
    needed = console.measure(table).maximum  # every column whole (errors are cut at 40 above)
    Console(width=max(console.width, needed)).print(table)


def replay(
    delivery: str | None = typer.Option(None, "--delivery", help="Send this delivery again."),
    subscription: str | None = typer.Option(
        None, "--subscription", help="Send this subscription's events again…"
    ),
    since: str | None = typer.Option(None, "--since", help="…created at or after this ISO 8601 time."),
) -> None:
    """Send events again with the same webhook-id (receivers dedupe by it).

    Example: `syndicate replay --subscription sub_123 --since 2026-11-01T00:00:00Z`
    """
    from worker import subscriptions as subs
    from worker.nudger import nudger

    rt = runtime_or_fail()
    if delivery:
        original = rt.store.delivery(delivery)
        if original is None:
            fail(f"no delivery with id '{delivery}'")
        originals = [original]
    elif subscription and since:
        try:
            t = datetime.fromisoformat(since.replace("Z", "+00:00"))
        except ValueError:
            fail(f"--since '{since}' is not an ISO 8601 time such as 2026-11-01T00:00:00Z", code=2)
        t = t if t.tzinfo else t.replace(tzinfo=UTC)
        originals = [d for d in rt.store.deliveries_since(subscription, t.timestamp()) if d.replay_of is None]
    else:
        fail("give --delivery ID, or --subscription ID with --since ISO8601", code=2)
    with Progress(console=err, disable=not err.is_terminal, transient=True) as progress:
        task = progress.add_task("replaying", total=len(originals))
        for d in originals:
            copy = subs.replay(rt, d, nudger)
            typer.echo(f"{copy.id} {copy.webhook_id}")
            progress.advance(task)


def audiences() -> None:
    """Audiences, their regions, and the notices in force for each today.

    Example: `SYNDICATE_CONFIG_DIR=config syndicate audiences`
    """
    from worker.config import ConfigError, load_config
    from worker.settings import Settings

    try:
        config = load_config(Settings.from_env().config_dir)
    except ConfigError as exc:
        fail(str(exc), code=2)
    from worker.notices import in_force, regions_meet

    today = datetime.now(UTC).date()
    table = Table("audience", "language", "regions", "notices in force today")
    for a in config.audiences:
        meets = [
            n.id
            for n in config.notices
            if in_force(n, today)
            and (not n.regions or any(regions_meet(x, y) for x in a.regions for y in n.regions))
        ]
        regions = ", ".join(a.regions) or ("(everyone else)" if a.default else "")
        table.add_row(
            a.id + (" (default)" if a.default else ""), a.language, regions, ", ".join(meets) or "-"
        )
    Console().print(table)


def publishers(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Publishers of config/publishers.yaml: names and aliases a source may use, web domains.

    Example: `syndicate publishers`
    """
    from worker.config import ConfigError, load_config
    from worker.settings import Settings

    try:
        config = load_config(Settings.from_env().config_dir)
    except ConfigError as exc:
        fail(str(exc), code=2)
    if as_json:
        typer.echo(json.dumps([p.model_dump() for p in config.publishers], ensure_ascii=False, indent=2))
        return
    table = Table("publisher", "names and aliases", "domains (and their subdomains)")
    for p in config.publishers:
        table.add_row(p.id, ", ".join([*p.names, *p.aliases]) or "-", ", ".join(p.domains) or "-")
    Console().print(table if config.publishers else "no publishers in publishers.yaml")


def poll(source: str | None = typer.Argument(None, help="Source id; all sources when omitted.")) -> None:
    """Poll upstream sources now; returns once each fetch is done and its new items are queued.

    Prints one line per source; exits 1 when a source failed (see `syndicate sources`).
    Example: `syndicate poll rferl-world`
    """
    from worker import poller
    from worker.nudger import nudger

    rt = runtime_or_fail()
    if source and rt.config.source(source) is None:
        known = ", ".join(s.id for s in rt.config.sources) or "none"
        fail(f"no source '{source}' in {rt.settings.config_dir}/sources.yaml (known: {known})", code=2)
    ids = [source] if source else [s.id for s in rt.config.sources]
    if not ids:
        err.print(
            f"syndicate: no sources in {rt.settings.config_dir}/sources.yaml", markup=False, highlight=False
        )
    failed = 0
    for sid in ids:
        typer.echo(f"{sid}: {poller.poll_source(rt, sid, nudger)}")
        failed += poller.source_state(rt, sid).get("status") == "error"
    raise typer.Exit(1 if failed else 0)


def sources(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Upstream sources: last poll, status, next poll and the last error.

    Example: `syndicate sources --json`
    """
    from worker import poller

    rt = runtime_or_fail()
    rows = []
    for s in rt.config.sources:
        st = poller.source_state(rt, s.id)
        rows.append(
            {
                "id": s.id,
                "url": s.url,
                "every": s.every,
                "full_page": s.full_page,
                "last_poll": st.get("last_poll") or None,
                "status": st.get("status") or "never polled",
                "next_poll": st.get("next_poll") or None,
                "failures": int(st.get("failures") or 0),
                "error": st.get("error") or None,
                "error_kind": st.get("error_kind") or None,
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("source", "url", "every", "last poll", "status", "next poll", "error")
    for r in rows:
        status = r["status"] + (f" ({r['failures']}x)" if r["failures"] else "")
        table.add_row(
            r["id"],
            r["url"],
            f"{r['every']}s",
            r["last_poll"] or "-",
            status,
            r["next_poll"] or "-",
            r["error"] or "",
        )
    # markup off: URLs and upstream error messages may hold square brackets
    Console(markup=False, highlight=False).print(
        table if rows else f"no sources in {rt.settings.config_dir}/sources.yaml"
    )


def dead_letters(
    limit: int = typer.Option(50, "--limit"), as_json: bool = typer.Option(False, "--json")
) -> None:
    """Rejected inputs with their reasons, newest first.

    Example: `syndicate dead-letters --limit 20 --json`
    """
    rt = runtime_or_fail()
    rows = rt.store.dead_letters(limit)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("when", "origin", "reason")
    for r in rows:
        table.add_row(
            datetime.fromtimestamp(r["at"], UTC).strftime("%Y-%m-%d %H:%M:%S"), r["origin"], r["reason"]
        )
    Console().print(table)


def status(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Queues, workers, failing subscriptions and dead letters at a glance.

    Example: `syndicate status --json`
    """
    from worker.celery_app import QUEUES

    rt = runtime_or_fail()
    store = rt.store
    subs = store.subscriptions()
    data = {
        "config": {"dir": str(rt.settings.config_dir.absolute()), "origin": rt.settings.config_origin},
        "queues": store.queue_lengths(list(QUEUES)),
        "backlog": {"ingest": store.due_count("ingest"), "deliveries": store.due_count("deliver")},
        "workers": {
            n: {"queues": w.get("queues"), "age_s": round(time.time() - w["at"], 1)}
            for n, w in store.workers().items()
        },
        "failing_subscriptions": [
            {
                "id": s.id,
                "url": s.url,
                "enabled": s.enabled,
                "reason": s.disabled_reason,
                "failing_since": s.failing_since.isoformat() if s.failing_since else None,
            }
            for s in subs
            if not s.enabled or s.failing_since
        ],
        "dead_letters": store.dead_letter_count(),
        "embargoed": embargo_summary(store),
        "counters": store.stats(),
        "redis": store.replication(),  # where writes go (with Sentinel: the primary now) and its replicas
    }
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    console = Console(highlight=False)
    typer.echo(rt.settings.config_where())  # one line, never wrapped
    t = Table("queue", "waiting")
    for q, n in data["queues"].items():
        t.add_row(q, str(n))
    console.print(t)
    w = Table("worker", "queues", "heartbeat age (s)")
    for n, info in data["workers"].items():
        w.add_row(n, ", ".join(info["queues"] or []), str(info["age_s"]))
    console.print(w if data["workers"] else "[red]no live workers[/red]")
    backlog = data["backlog"]
    console.print(
        f"backlog: {backlog['ingest']} to ingest, {backlog['deliveries']} deliveries due   "
        f"dead letters: {data['dead_letters']}"
    )
    emb = data["embargoed"]
    lift = f", next to lift: {emb['next']['id']} at {emb['next']['at']}" if emb["next"] else ""
    console.print(f"embargoed: {emb['count']}{lift}")
    r = data["redis"]
    console.print(f"redis: {r['redis']}, role {r['role']}, {r['connected_replicas']} replica(s)")
    for s in data["failing_subscriptions"]:
        console.print(
            f"[yellow]failing[/yellow] {s['id']} {s['url']} enabled={s['enabled']} {s['reason'] or ''}"
        )
