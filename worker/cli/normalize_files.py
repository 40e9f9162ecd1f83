"""Files normalized for ``syndicate ingest``, in order, on every core when there are many.

Normalization is pure and CPU-bound (parsing, structure, sanitizing: several ms per article),
and the command is the step a bulk import waits on; workers forked from the command share its
loaded config and code. A file's result is the article or the one-line reason it is not one.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from worker.cli.common import resolve_format
from worker.models import Article, Notice, Publisher, RawInput
from worker.normalize import NormalizeError, normalize
from worker.normalize.magic import decode_input

PARALLEL_FROM = 64  # files; fewer are normalized here (forking costs more than it saves)
CHUNK = 16  # files per message to a normalizing process

_job: tuple[str, str | None, Sequence[Notice], Sequence[Publisher]] | None = None


def _one(path: Path) -> Article | str:
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


def normalized(
    files: list[Path],
    fmt: str,
    source: str | None,
    notices: Sequence[Notice],
    publishers: Sequence[Publisher],
) -> Iterator[tuple[Path, Article | str]]:
    """Each file with its article or reason, in the order given."""
    global _job
    _job = (fmt, source, notices, publishers)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if len(files) < PARALLEL_FROM or cores < 2:
        for path in files:
            yield path, _one(path)
        return
    # fork: the children inherit ``_job`` and never touch the parent's Redis connections.
    with ProcessPoolExecutor(cores, mp_context=multiprocessing.get_context("fork")) as pool:
        yield from zip(files, pool.map(_one, files, chunksize=CHUNK), strict=True)
