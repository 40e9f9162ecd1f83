"""The bulk path of ``syndicate ingest``: files normalized and committed on every core, in order.

Normalization is pure and CPU-bound (parsing, structure, sanitizing), and the command is the
step a bulk import waits on. Each normalizing process (forked from the command: it shares the
command's loaded code) also commits what it normalized, a batch per transaction, straight from
the normalizer (``pipeline.commit_normalized``): the command waits for its articles to be stored
anyway, so staging them for the ingest queue would only add a round trip of every article
through Redis and a worker's read of it back. When a batch conflicts with other work (an id
staged, killed or committed meanwhile, or one id twice in the batch) it is staged instead, and
the ingest queue applies it in order as it does any input.

A file's result is its article id, once stored, or the one-line reason it is not an article
(dead-lettered here, with origin ``cli``).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from worker.cli.common import resolve_format
from worker.models import Article, Notice, Publisher, RawInput
from worker.normalize import NormalizeError, normalize
from worker.normalize.magic import decode_input

PARALLEL_FROM = 64  # files; fewer are done in the command's own process (forking costs more)
CHUNK = 50  # files per message to a normalizing process, committed in one transaction


@dataclass(frozen=True)
class Done:
    """One file's result: ``id`` once stored, else ``reason``; ``unavailable`` when Redis did
    not store the batch (the command stops: nothing after it is stored either)."""

    path: Path
    id: str | None = None
    reason: str | None = None
    unavailable: bool = False


_job: tuple[str, str | None, Sequence[Notice], Sequence[Publisher]] | None = None


def load_for_children() -> None:
    """Import what the normalizing processes commit with (the pipeline, Redis, the queue's
    client), before they are forked: they share it then, where each would spend ~0.3 s of CPU
    importing it again."""
    from worker import pipeline, runtime  # noqa: F401
    from worker.nudger import nudger  # noqa: F401


def _normalized(path: Path) -> Article | str:
    """The article of ``path``, or why it is not one (``path: reason``)."""
    assert _job is not None
    fmt, source, notices, publishers = _job
    try:
        body = decode_input(path.read_bytes())
        raw = RawInput(format=resolve_format(fmt, body, path), body=body, source=source)  # type: ignore[arg-type]
        return normalize(raw, notices, publishers, received_at=datetime.now(UTC))
    except OSError as exc:
        return f"{path}: {exc.strerror}"
    except NormalizeError as exc:
        return f"{path}: {exc}"


def _store(articles: list[Article]) -> None:
    """Commit ``articles`` in one transaction, or stage them when that conflicts with other work."""
    from worker import pipeline
    from worker.nudger import BulkNudger, nudger
    from worker.runtime import runtime

    rt = runtime()
    ids = [a.id for a in articles]
    if len(set(ids)) == len(ids) and pipeline.commit_normalized(rt, articles, BulkNudger()) is not None:
        return
    rt.store.stage_many(articles)
    nudger.ingest(list(dict.fromkeys(ids)))


def _chunk(paths: list[Path]) -> list[Done]:
    """Normalize and store one chunk of files (in a normalizing process, or the command's)."""
    from worker import pipeline
    from worker.runtime import runtime
    from worker.storage import StorageUnavailable

    results = [(path, _normalized(path)) for path in paths]
    articles = [a for _, a in results if isinstance(a, Article)]
    try:
        if articles:
            _store(articles)
        for path, result in results:
            if isinstance(result, str):
                pipeline.reject(runtime().store, "cli", result, {"path": str(path)}, logged=False)
    except StorageUnavailable as exc:
        return [Done(path, reason=str(exc), unavailable=True) for path in paths]
    return [
        Done(path, id=result.id) if isinstance(result, Article) else Done(path, reason=result)
        for path, result in results
    ]


@contextlib.contextmanager
def ingested(
    files: list[Path],
    fmt: str,
    source: str | None,
    notices: Sequence[Notice],
    publishers: Sequence[Publisher],
) -> Iterator[Iterator[Done]]:
    """Each file's :class:`Done`, in the order given.

    With many files the work starts on entering (every chunk is handed to the processes at
    once), so the caller's own start-up overlaps it; leaving early cancels what has not started."""
    global _job
    _job = (fmt, source, notices, publishers)
    chunks = [files[i : i + CHUNK] for i in range(0, len(files), CHUNK)]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if len(files) < PARALLEL_FROM or cores < 2:
        yield (done for chunk in chunks for done in _chunk(chunk))
        return
    # fork: the children inherit ``_job`` and the loaded code; each opens its own connections.
    pool = ProcessPoolExecutor(cores, mp_context=multiprocessing.get_context("fork"))
    try:
        yield (done for dones in pool.map(_chunk, chunks) for done in dones)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
