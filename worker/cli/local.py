"""Local state of ``syndicate up`` under ``var/``: the API token kept across restarts."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

TOKEN_FILE = "api-token"


def api_token(var_dir: Path) -> tuple[str, Path, bool]:
    """The token kept in ``var_dir/api-token`` (mode 0600), made on first use.

    Returns ``(token, path, created)``; the same token comes back on every later start."""
    path = var_dir / TOKEN_FILE
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        token = ""
    if token:
        os.chmod(path, 0o600)
        return token, path, False
    var_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token + "\n")
    os.chmod(path, 0o600)  # O_CREAT's mode does not apply to a file that was there (empty)
    return token, path, True
