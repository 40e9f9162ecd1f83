"""Imports flow one way, as README's import ladder says, and no module imports itself back.

Each module of ``worker/`` and ``feeds/`` sits on a rung; it may import modules of its own rung
or lower ones, never higher (imports inside functions count too: a lazy import is still a
dependency). And the graph of modules has no cycle, lazy imports included.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Lowest first. A module is on the rung of the longest prefix listed ("worker.storage" holds
# worker/storage/*). Keep in step with README.md ("Imports flow one way").
LADDER: list[tuple[str, ...]] = [
    ("worker.models", "worker.names", "worker.allowlist", "worker.net", "worker.deadline", "worker.settings",
     "worker.cadence", "worker.heap",
     "worker.logs"),
    ("worker.publishers", "worker.normalize", "worker.notices", "worker.lifecycle", "worker.config",
     "worker.config_yaml", "worker.config_file", "worker.config_publishers", "worker.config_reload",
     "worker.geo", "worker.webhooks", "worker.delivery_policy", "worker.event_cut", "worker.fetch",
     "worker.samples", "feeds"),
    ("worker.events", "worker.ingest", "worker.retention"),
    ("worker.storage",),
    ("worker.runtime",),
    ("worker.pipeline", "worker.sweeper", "worker.publish", "worker.publish_strict", "worker.websub",
     "worker.deliver", "worker.poller", "worker.subscriptions", "worker.export", "worker.retire"),
    ("worker.celery_app", "worker.nudger", "worker.tasks", "worker.supervisor", "worker.beat"),
    ("worker.web", "worker.cli"),
]  # fmt: skip


def modules() -> dict[str, Path]:
    found = {}
    for package in ("worker", "feeds"):
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            found[name] = path
    return found


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of ``tree`` except what ``if TYPE_CHECKING:`` holds (never imported when run)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            continue
        yield node
        yield from _runtime_nodes(node)


def imports(path: Path, known: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """The project modules ``path`` imports (an ``from a import b`` of a submodule names it)."""
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                yield name, node.lineno
                break


def graph() -> dict[str, dict[str, int]]:
    known = modules()
    edges: dict[str, dict[str, int]] = {}
    for name, path in known.items():
        for target, line in imports(path, known):
            if target != name and not name.startswith(target + "."):  # a package's own __init__
                edges.setdefault(name, {}).setdefault(target, line)
    return edges


def rung(module: str) -> int:
    if module in ("worker", "feeds"):  # the packages' own __init__.py: they import nothing
        return 0
    best, found = -1, -1
    for level, prefixes in enumerate(LADDER):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), level
    assert found >= 0, f"{module} is on no rung of LADDER: add it (and to README's import ladder)"
    return found


def test_every_module_is_on_the_ladder() -> None:
    for module in modules():
        rung(module)


def test_imports_never_go_up_the_ladder() -> None:
    upward = [
        f"{modules()[a].relative_to(ROOT)}:{line}: {a} (rung {rung(a)}) imports {b} (rung {rung(b)})"
        for a, targets in graph().items()
        for b, line in targets.items()
        if rung(b) > rung(a)
    ]
    assert upward == [], "\n".join(upward)


def test_no_import_cycle() -> None:
    edges = graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, {})):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert cycles == [], "\n".join(" -> ".join(c) for c in cycles)
