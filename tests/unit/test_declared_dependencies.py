"""Every third-party package the code imports is declared in pyproject.toml (issue #14).

A package that arrives only as someone else's dependency (or, worse, as an extra of one) is left
out by some installers: Python 3.11's own pip (23.2.1) installs no ``lxml_html_clean``, and every
HTML page then failed in ``syndicate normalize``. So each top-level module that ``worker/`` or
``feeds/`` imports must be named, by its distribution, in ``[project] dependencies``.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = {"worker", "feeds", "tests"}
# Import name -> distribution name, where they differ.
DISTRIBUTION = {
    "yaml": "PyYAML",
    "prometheus_client": "prometheus-client",
    "py3langid": "py3langid",
    "swagger_ui_bundle": "swagger-ui-bundle-v2",
}
# Modules the code needs without importing them itself: lxml.html.clean (used by trafilatura and
# justext) is now this separate project, pulled in only through an extra.
NEEDED_INDIRECTLY = {"lxml_html_clean": "lxml.html.clean, used by trafilatura for every HTML page"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {canonical(Requirement(spec).name) for spec in project["dependencies"]}


def imported_modules(*packages: str) -> dict[str, str]:
    """Top-level module -> the first file:line that imports it (relative imports skipped)."""
    found: dict[str, str] = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    found.setdefault(name.split(".")[0], where)
    return found


def third_party(modules: dict[str, str]) -> dict[str, str]:
    return {
        m: where
        for m, where in modules.items()
        if m not in sys.stdlib_module_names and m not in FIRST_PARTY and m != "__future__"
    }


def test_the_walk_finds_what_the_code_imports() -> None:
    """The walk itself works: it sees imports at top level and inside functions."""
    modules = third_party(imported_modules("worker", "feeds"))
    assert {"lxml", "redis", "celery", "typer", "feedgen", "yaml", "nh3"} <= set(modules)
    assert not {"json", "os", "worker", "feeds", "__future__"} & set(modules)


def test_every_imported_third_party_module_is_declared() -> None:
    names = declared()
    missing = {
        m: f"{where}: imports {m}; declare {DISTRIBUTION.get(m, m)!r} in pyproject.toml dependencies"
        for m, where in third_party(imported_modules("worker", "feeds")).items()
        if canonical(DISTRIBUTION.get(m, m)) not in names
    }
    assert not missing, "\n".join(missing.values())


def test_packages_needed_through_an_extra_are_declared_directly() -> None:
    names = declared()
    missing = [f"{m} ({why})" for m, why in NEEDED_INDIRECTLY.items() if canonical(m) not in names]
    assert not missing, f"declare in pyproject.toml: {', '.join(missing)}"
