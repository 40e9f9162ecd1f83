"""``syndicate serve`` hands uvicorn bounded connection settings from the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn

from worker.cli import roles

ROOT = Path(__file__).resolve().parent.parent.parent


def served_with(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    monkeypatch.setenv("SYNDICATE_CONFIG_DIR", str(ROOT / "config"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    roles.serve(host="127.0.0.1", port=8000, workers=2)  # by name: no app is built here
    assert len(calls) == 1
    return calls[0]


def test_defaults_bound_connections_and_keep_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SYNDICATE_HTTP_LIMIT_CONCURRENCY", raising=False)
    monkeypatch.delenv("SYNDICATE_HTTP_KEEPALIVE_TIMEOUT", raising=False)
    options = served_with(monkeypatch)
    assert options["limit_concurrency"] == 1000
    assert options["timeout_keep_alive"] == 5.0


def test_settings_reach_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    options = served_with(
        monkeypatch, SYNDICATE_HTTP_LIMIT_CONCURRENCY="64", SYNDICATE_HTTP_KEEPALIVE_TIMEOUT="2.5"
    )
    assert options["limit_concurrency"] == 64 and options["timeout_keep_alive"] == 2.5
