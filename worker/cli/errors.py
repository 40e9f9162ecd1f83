"""Unexpected errors in the ``syndicate`` command: one line by default, the traceback on demand.

Expected failures already end in one line with their own exit code (``common.fail``: 1 failure,
2 bad input). Anything else that escapes a command is a bug or a broken environment: it prints
``syndicate: error: <command> failed: <Type>: <message> (at <file>:<line>); ...`` and exits 1.
The traceback is shown only with ``syndicate --debug ...`` (or ``SYNDICATE_DEBUG=1``), and goes
to the log where the command has one (the long-running roles log JSON to stderr).
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from pathlib import Path
from types import TracebackType

DEBUG_ENV = "SYNDICATE_DEBUG"
_PACKAGES = Path(__file__).resolve().parents[2]
_OURS = ("worker", "feeds")
_MAX_MESSAGE = 300

log = logging.getLogger("syndicate.cli")


def debug_wanted(argv: list[str]) -> bool:
    """``--debug`` before the command, or ``SYNDICATE_DEBUG`` set to a true value."""
    if os.environ.get(DEBUG_ENV, "").strip().lower() in ("1", "true", "yes", "on"):
        return True
    for arg in argv:
        if arg == "--debug":
            return True
        if not arg.startswith("-"):  # the command: later arguments are its own
            return False
    return False


def command_name(argv: list[str]) -> str:
    words = [a for a in argv if not a.startswith("-")][:2]
    if words[:1] == ["subscriptions"]:
        return " ".join(words)
    return words[0] if words else "syndicate"


def where(tb: TracebackType | None) -> str | None:
    """``worker/storage/work.py:171``: the innermost frame in the project's own code."""
    found = None
    for frame in traceback.extract_tb(tb):
        path = Path(frame.filename)
        try:
            rel = path.resolve().relative_to(_PACKAGES)
        except ValueError:
            continue
        if rel.parts and rel.parts[0] in _OURS:
            found = f"{rel.as_posix()}:{frame.lineno}"
    return found


def settings_error(exc: BaseException) -> str | None:
    """``SYNDICATE_FEED_WINDOW='abc': Input should be a valid integer`` for a bad environment."""
    from pydantic import ValidationError

    from worker.settings import Settings

    if not isinstance(exc, ValidationError) or exc.title != "Settings":
        return None
    parts = []
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else ""
        name = Settings.variable(field) if field in Settings.model_fields else field or "environment"
        parts.append(f"{name}={err.get('input')!r}: {err['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


def one_line(exc: BaseException, argv: list[str], *, hint: bool = True) -> str:
    lines = str(exc).strip().splitlines()
    message = lines[0].strip() if lines else ""
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE] + "…"
    kind = type(exc).__name__
    at = where(exc.__traceback__)
    text = f"{kind}: {message}" if message else kind
    location = f" (at {at})" if at else ""
    line = f"syndicate: error: {command_name(argv)} failed: {text}{location}"
    if hint:
        cmd = command_name(argv)
        line += f"; run with --debug (syndicate --debug {cmd} ...) or {DEBUG_ENV}=1 for the traceback"
    return line


def report(exc: BaseException, argv: list[str]) -> int:
    """Tell the user about ``exc`` in one line; the exit code: 2 for a bad environment, else 1."""
    debug = debug_wanted(argv)
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    elif logging.getLogger().handlers:  # a role that logs: the log keeps the traceback
        log.error("%s failed", command_name(argv), exc_info=exc)
    bad_env = settings_error(exc)
    if bad_env is not None:
        sys.stderr.write(f"syndicate: error: environment: {bad_env}\n")
        return 2
    sys.stderr.write(one_line(exc, argv, hint=not debug) + "\n")
    sys.stderr.flush()
    return 1
