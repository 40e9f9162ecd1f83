"""SLOW (a minute or two): the project installs and normalizes HTML with the pip people have.

A fresh venv made by Python 3.11's own ``venv`` keeps the pip that ``ensurepip`` bundles (23.2.1
for 3.11.x here), which is not upgraded here on purpose: that pip left out ``lxml_html_clean``
(an extra of a transitive dependency) and every HTML page then failed in ``syndicate normalize``
with a 60-line traceback. ``pip install .`` runs on a copy of the repository, with the pip cache
and the index configuration of this machine (PyPI or its mirror), nothing else.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

PAGE = ROOT / "tests" / "data" / "normalize" / "rferl-hostile.html"
SKIP = shutil.ignore_patterns(
    ".venv",
    ".git",
    "var",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    ".ruff_cache",
    "*.egg-info",
    "build",
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def python311() -> str:
    found = shutil.which("python3.11")
    if found:
        return found
    if sys.version_info[:2] == (3, 11):
        return sys.executable
    pytest.fail("python3.11 is not on PATH (the project requires Python 3.11)")


def run(
    args: list[str], cwd: Path, env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_pip_install_with_the_stock_pip_normalizes_an_html_page(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env = {k: v for k, v in env.items() if not k.startswith("SYNDICATE_")}
    copy = tmp_path / "syndicate"
    shutil.copytree(ROOT, copy, ignore=SKIP)
    venv = tmp_path / "venv"
    made = run([python311(), "-m", "venv", str(venv)], tmp_path, env)
    assert made.returncode == 0, made.stderr
    py = venv / "bin" / "python"
    bundled = run(
        [str(py), "-c", "import ensurepip; print(ensurepip.version())"], tmp_path, env
    ).stdout.strip()
    pip_version = run([str(py), "-m", "pip", "--version"], tmp_path, env).stdout.split()[1]
    assert pip_version == bundled, f"pip {pip_version} is not the stock pip {bundled} of this Python"

    installed = run([str(py), "-m", "pip", "install", "-q", "."], copy, env)
    assert installed.returncode == 0, installed.stderr[-3000:]

    env["SYNDICATE_CONFIG_DIR"] = str(copy / "config")
    out = run([str(venv / "bin" / "syndicate"), "normalize", str(PAGE)], tmp_path, env, timeout=120)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr[-3000:]
    article = json.loads(out.stdout)
    # The same article as the development install makes of the same page.
    dev = subprocess.run(
        [sys.executable, "-m", "worker.cli", "normalize", str(PAGE)],
        cwd=ROOT,
        env={**env, "SYNDICATE_CONFIG_DIR": str(ROOT / "config")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dev.returncode == 0, dev.stderr
    assert article == json.loads(dev.stdout)
    assert article["title"] and "<p>" in article["body_html"]
