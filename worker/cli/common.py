"""Small helpers shared by the CLI commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import typer

FORMATS = ("auto", "text", "html", "json", "ninjs")


def fail(message: str, code: int = 1) -> NoReturn:
    """One line on stderr, then exit with ``code``."""
    sys.stderr.write(f"syndicate: {message.splitlines()[0] if message else 'error'}\n")
    raise typer.Exit(code)


def resolve_format(fmt: str, body: str, path: Path | None = None) -> str:
    if fmt not in FORMATS:
        fail(f"--format '{fmt}' is not one of {', '.join(FORMATS)}", code=2)
    if fmt != "auto":
        return fmt
    suffix = path.suffix.lower() if path else ""
    if suffix == ".json":  # CMS JSON or ninjs: normalize tells them apart by their shape
        return "json"
    if suffix in (".html", ".htm"):
        return "html"
    if suffix == ".txt":
        return "text"
    from worker.normalize import detect_format

    return detect_format(body)


def config_or_fail():  # type: ignore[no-untyped-def]
    """The configuration (``config/``), without connecting to anything; a config error ends the
    command with one line."""
    from worker.config import ConfigError, load_config
    from worker.settings import Settings

    try:
        return load_config(Settings.from_env().config_dir)
    except ConfigError as exc:
        fail(str(exc), code=2)


def runtime_or_fail():  # type: ignore[no-untyped-def]
    """The runtime; a config error or an unreachable Redis ends the command with one line."""
    from worker.config import ConfigError
    from worker.runtime import runtime
    from worker.storage import StorageUnavailable

    try:
        rt = runtime()
        rt.store.ping()
    except ConfigError as exc:
        fail(str(exc), code=2)
    except StorageUnavailable as exc:
        fail(f"{exc} (is Redis running at REDIS_URL?)")
    return rt


def check_config() -> None:
    """Stop start-up with one line naming the file, line and problem if the config is broken."""
    from worker.config import ConfigError, load_config
    from worker.settings import Settings

    try:
        load_config(Settings.from_env().config_dir)
    except ConfigError as exc:
        fail(str(exc), code=2)
