"""``syndicate subscriptions ...``: manage webhook subscriptions."""

from __future__ import annotations

import json
import sys

import typer
from pydantic import ValidationError

from worker.cli.common import fail, runtime_or_fail
from worker.names import section_slug

subscriptions_app = typer.Typer(help="Manage webhook subscriptions.", no_args_is_help=True)


def _print(data: object) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _get(rt, sub_id: str):  # type: ignore[no-untyped-def]
    sub = rt.store.subscription(sub_id)
    if sub is None:
        fail(f"no subscription with id '{sub_id}'")
    return sub


@subscriptions_app.command("add")
def add(
    url: str = typer.Argument(..., help="The receiver's https URL."),
    audience: str = typer.Option(
        ..., "--audience", "-a", help="Audience whose view of articles it receives."
    ),
    section: list[str] = typer.Option([], "--section", "-s", help="Only this section (repeatable)."),
    events: str = typer.Option(
        "", "--events", "-e", help="Comma-separated: article.published,article.updated,..."
    ),
    rate_limit: int | None = typer.Option(None, "--rate-limit", help="Requests per second at most."),
    fmt: str = typer.Option(
        "json", "--format", help="json (the JSON article) or ninjs (data.article: IPTC ninjs 3.1)."
    ),
) -> None:
    """Add a subscription; prints {"id", "secret"} (the secret is shown only now).

    Example: `syndicate subscriptions add https://partner.example/hooks --audience ru --format ninjs`
    """
    from worker import subscriptions as subs

    rt = runtime_or_fail()
    fields: dict[str, object] = {
        "url": url,
        "audience": audience,
        "sections": section,
        "rate_limit": rate_limit,
        "format": fmt,
    }
    if events:
        fields["events"] = [e.strip() for e in events.split(",") if e.strip()]
    try:
        sub, secret = subs.create(rt, subs.SubscriptionIn.model_validate(fields))
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"{'.'.join(str(x) for x in first['loc'])}: {first['msg']}", code=2)
    except ValueError as exc:
        fail(str(exc), code=2)
    _warn_unknown_sections(rt, section)
    _print({"id": sub.id, "secret": secret})


def _warn_unknown_sections(rt, sections: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Sections come with articles; one that no article has had yet is most likely a typo."""
    known = rt.store.sections()  # slug -> name
    for name in sections:
        if section_slug(name) not in known:
            names = ", ".join(sorted(known.values())) or "none yet"
            sys.stderr.write(
                f"syndicate: warning: --section '{name}': no article so far is in that section "
                f"(known: {names}); the subscription receives only articles of its sections\n"
            )


@subscriptions_app.command("list")
def list_() -> None:
    """List subscriptions (without secrets).

    Example: `syndicate subscriptions list`
    """
    rt = runtime_or_fail()
    _print([s.public() for s in rt.store.subscriptions()])


@subscriptions_app.command("show")
def show(sub_id: str) -> None:
    """Show one subscription.

    Example: `syndicate subscriptions show sub_123`
    """
    _print(_get(runtime_or_fail(), sub_id).public())


@subscriptions_app.command("remove")
def remove(sub_id: str) -> None:
    """Delete a subscription.

    Example: `syndicate subscriptions remove sub_123`
    """
    rt = runtime_or_fail()
    if not rt.store.delete_subscription(sub_id):
        fail(f"no subscription with id '{sub_id}'")
    typer.echo(f"removed {sub_id}")


@subscriptions_app.command("rotate-secret")
def rotate_secret(sub_id: str) -> None:
    """New secret; for 24 hours events carry both signatures (new and old).

    Example: `syndicate subscriptions rotate-secret sub_123`
    """
    from worker import subscriptions as subs

    rt = runtime_or_fail()
    _, secret = subs.rotate(rt, _get(rt, sub_id))
    _print({"id": sub_id, "secret": secret})


@subscriptions_app.command("enable")
def enable(sub_id: str) -> None:
    """Enable a subscription that was disabled (410 Gone, or failing for days).

    Example: `syndicate subscriptions enable sub_123`
    """
    from worker import subscriptions as subs

    rt = runtime_or_fail()
    sub = subs.update(rt, _get(rt, sub_id), subs.SubscriptionPatch(enabled=True))
    _print(sub.public())
