"""``syndicate``: run the roles, feed it articles, manage subscriptions, look inside.

Every command explains itself with ``--help``; errors are one line on stderr that name the file,
field or value, and the exit code says what happened (0 ok, 1 failure, 2 bad input).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from worker.cli import intake, lifecycle, manage, plainhelp, receive, roles, subs
from worker.cli.common import fail, resolve_format
from worker.cli.errors import DEBUG_ENV, report

plainhelp.install()
app = typer.Typer(
    name="syndicate",
    help=(
        "Geo-aware syndication worker: normalize articles, attach regional legal notices, publish "
        "RSS/Atom/JSON feeds and signed webhooks.\n\n"
        "Quick start: `syndicate up` (everything on this machine), then open the printed feed URLs."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)


@app.callback()
def _options(
    debug: bool = typer.Option(
        False, "--debug", help=f"Show the traceback of an unexpected error (or set {DEBUG_ENV}=1)."
    ),
) -> None:
    """Read before any command; ``main`` reads ``--debug`` itself (see ``worker.cli.errors``).

    A ``SYNDICATE_*`` variable that no setting reads (a typo) is named here, at every start."""
    import os

    from worker.settings import unknown_variables

    for line in unknown_variables(os.environ):
        sys.stderr.write(f"syndicate: warning: {line}\n")


app.add_typer(subs.subscriptions_app, name="subscriptions")
for command in (roles.up, roles.worker, roles.beat, roles.serve):
    app.command()(command)
for command in (
    intake.ingest,
    intake.reindex,
    lifecycle.withdraw,
    lifecycle.retire,
    manage.deliveries,
    manage.replay,
    manage.audiences,
    manage.publishers,
    manage.poll,
    manage.sources,
    manage.dead_letters,
    manage.status,
    receive.receive,
):
    app.command(name=command.__name__.replace("_", "-"))(command)


@app.command()
def normalize(
    path: Path = typer.Argument(..., help="A file: page text, an HTML page, CMS JSON or an IPTC ninjs item."),
    fmt: str = typer.Option("auto", "--format", help="auto | text | html | json | ninjs"),
    source: str | None = typer.Option(None, help="Publisher id when the input lacks one, e.g. rferl."),
    url: str | None = typer.Option(None, help="Canonical URL when the input lacks one."),
    published_at: str | None = typer.Option(
        None, "--published-at", help="ISO 8601 date when the input lacks one."
    ),
) -> None:
    """Print the normalized article as JSON. Needs no Redis.

    Example: `syndicate normalize tests/data/rferl-nato-afghan-pullout.txt --format text`
    """
    from worker.config import ConfigError
    from worker.models import RawInput
    from worker.normalize import NormalizeError
    from worker.normalize import normalize as run
    from worker.settings import Settings

    body = read_text(path)
    settings = Settings.from_env()
    try:
        from worker.config import load_config

        config = load_config(settings.config_dir)
    except ConfigError as exc:
        fail(str(exc), code=2)
    try:
        raw = RawInput(
            format=resolve_format(fmt, body, path),
            body=body,
            source=source,
            url=url,
            published_at=published_at,
        )
        article = run(raw, config.notices, config.publishers)
    except NormalizeError as exc:
        fail(f"{path}: {exc}", code=2)
    sys.stdout.write(json.dumps(article.to_public(), ensure_ascii=False, indent=2) + "\n")


def read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        fail(f"{path}: cannot read: {exc.strerror}", code=2)
    from worker.normalize import NormalizeError
    from worker.normalize.magic import decode_input

    try:
        return decode_input(data)
    except NormalizeError as exc:
        fail(f"{path}: {exc}", code=2)


def main() -> None:
    """Run the command; an unexpected error ends in one line and exit 1 (``worker.cli.errors``)."""
    try:
        app()
    except Exception as exc:
        sys.exit(report(exc, sys.argv[1:]))
