"""``syndicate ingest``: send files to the ingest queue; ``syndicate reindex``: apply the
configuration to the articles already stored."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import Progress

from worker.cli.common import fail, runtime_or_fail

if TYPE_CHECKING:
    from worker.cli.bulk import Done

err = Console(stderr=True)


def _files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")))
        elif p.is_file():
            out.append(p)
        else:
            fail(f"{p}: no such file or folder", code=2)
    return out


def ingest(
    paths: list[Path] = typer.Argument(..., help="Files, or folders whose files are all sent."),
    fmt: str = typer.Option("auto", "--format", help="auto | text | html | json | ninjs"),
    source: str | None = typer.Option(None, help="Publisher id for inputs that lack one."),
    wait: bool = typer.Option(False, "--wait", help="Return once every article is published."),
    timeout: float = typer.Option(600, help="With --wait: give up after this many seconds."),
) -> None:
    """Send articles to the ingest queue; prints one article id per line.

    A file that is not an article is reported on stderr and dead-lettered; the others go on.
    Example: `syndicate ingest articles/ --wait`
    """
    from worker.cli.bulk import ingested, load_for_children
    from worker.cli.common import config_or_fail

    # The work starts first, on every core; this process connects to Redis meanwhile.
    files = _files(paths)
    config = config_or_fail()
    load_for_children()
    with ingested(files, fmt, source, config.notices, config.publishers) as results:
        rt = runtime_or_fail()
        ids, failed = _report(files, results)
    sys.stdout.flush()
    if wait and ids:
        _wait_published(rt, ids, timeout)
    raise typer.Exit(1 if failed else 0)


def _report(files: list[Path], results: Iterator[Done]) -> tuple[list[str], int]:
    """Print each stored article's id on stdout and each refused file's reason on stderr, in
    order; the ids, and how many files were refused. Every id printed is safely in Redis (with
    SYNDICATE_ACK_REPLICAS, held by that many replicas); ids are stable, so running the command
    again is safe."""
    ids: list[str] = []
    failed = 0
    with Progress(console=err, disable=not err.is_terminal, transient=True) as progress:
        task = progress.add_task("ingesting", total=len(files))
        for done in results:
            progress.advance(task)
            if done.unavailable:
                sys.stdout.flush()
                rest = len(files) - len(ids)
                fail(f"{done.reason}; {len(ids)} article(s) stored, the other {rest} not: run again")
            if done.id is None:
                failed += 1
                sys.stderr.write(f"syndicate: {done.reason}\n")  # one line: never wrapped to a width
                continue
            sys.stdout.write(done.id + "\n")
            ids.append(done.id)
    return ids, failed


def _wait_published(rt, ids: list[str], timeout: float) -> None:  # type: ignore[no-untyped-def]
    from worker import pipeline

    deadline = time.monotonic() + timeout
    pending = set(ids)
    with Progress(console=err, disable=not err.is_terminal, transient=True) as progress:
        task = progress.add_task("publishing", total=len(ids))
        while pending and time.monotonic() < deadline:
            for aid in list(pending):
                if (pipeline.article_status(rt.store, aid) or {"status": "queued"})["status"] != "queued":
                    pending.discard(aid)
                    progress.advance(task)
            if pending:
                time.sleep(0.2)
        while rt.store.dirty() and time.monotonic() < deadline:
            time.sleep(0.1)
    if pending:
        fail(f"{len(pending)} article(s) not published after {timeout:.0f} s")


def reindex() -> None:
    """Apply the current `config/` to every stored article: after a change of audiences or
    their regions, articles are withdrawn where they are now restricted and published where they
    now may be shown (with `article.withdrawn` / `article.published` webhooks). Articles ingested
    after a change follow it anyway; run this once the new config is in place everywhere.

    Example: `syndicate reindex`
    """
    from worker.nudger import nudger
    from worker.pipeline import revisit

    rt = runtime_or_fail()
    seen = changed = 0
    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("reindexing", total=None)
        for ids in rt.store.article_id_batches():
            changed += revisit(rt, ids, nudger)
            seen += len(ids)
            bar.update(task, advance=len(ids), description=f"reindexing: {changed} changed")
    err.print(f"{seen} articles looked at, {changed} changed audiences")
