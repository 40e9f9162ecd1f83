"""A running process picks up a valid config edit and keeps its config through a broken one."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest

from worker.config import load_config
from worker.config_reload import LiveConfig

ROOT = Path(__file__).resolve().parents[2]
KZ = "\n  kz:\n    language: ru\n    regions: [KZ]\n    title: Kazakhstan\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    return tmp_path / "config"


def _edit(path: Path, text: str) -> None:
    path.write_text(text)
    st = path.stat()  # a new mtime even within the file system's clock tick
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))


def test_a_valid_edit_is_picked_up(folder: Path) -> None:
    live = LiveConfig(folder, load_config(folder), check_every=0)
    before = live.current()
    assert live.current() is before  # nothing changed: the same object, nothing read
    _edit(folder / "audiences.yaml", (folder / "audiences.yaml").read_text() + KZ)
    after = live.current()
    assert after.audience("kz") is not None and after.digest != before.digest


def test_a_broken_edit_keeps_the_config_in_force(folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    live = LiveConfig(folder, load_config(folder), check_every=0)
    before = live.current()
    good = (folder / "audiences.yaml").read_text()
    with caplog.at_level(logging.ERROR, logger="syndicate.config"):
        _edit(folder / "audiences.yaml", good + "\n  xx:\n    language: en\n    regions: [UA-99]\n")
        assert live.current() is before
    assert len(caplog.records) == 1
    assert "audiences.yaml" in caplog.records[0].getMessage() and "UA-99" in caplog.records[0].getMessage()
    assert live.current() is before and len(caplog.records) == 1  # said once, not at every look
    _edit(folder / "audiences.yaml", good + KZ)  # fixed
    assert live.current().audience("kz") is not None


def test_between_checks_nothing_is_read(folder: Path) -> None:
    live = LiveConfig(folder, load_config(folder), check_every=3600)
    before = live.current()
    _edit(folder / "audiences.yaml", (folder / "audiences.yaml").read_text() + KZ)
    assert live.current() is before  # not yet looked at
    assert live.refresh().audience("kz") is not None  # the renderer looks now
