"""Every Lua script the storage code runs is registered in ``worker.storage.scripts``."""

from __future__ import annotations

import re
from pathlib import Path

import redis

from worker.storage.scripts import Scripts

STORAGE = Path(__file__).resolve().parents[2] / "worker" / "storage"


def test_every_script_the_storage_calls_is_registered() -> None:
    used = {m for f in STORAGE.glob("*.py") for m in re.findall(r"self\.scripts\.(\w+)", f.read_text())}
    scripts = Scripts(redis.Redis(port=1))  # registering computes a digest; it sends nothing
    assert used, "the storage runs no scripts?"
    missing = sorted(name for name in used if not hasattr(scripts, name))
    assert not missing, f"used but not registered in Scripts: {missing}"


def test_no_store_registers_a_script_of_its_own() -> None:
    for f in STORAGE.glob("*.py"):
        if f.name != "scripts.py":
            assert "register_script" not in f.read_text(), f"{f.name}: register it in scripts.py"
