"""YAML that remembers lines, and the error every config problem becomes.

Each mapping and list the loader builds knows its own line and the line of each key or item,
so a problem found after parsing (an unknown region code, say) is still reported as
``file:line: problem``. Only ``true``/``false`` are booleans (``NO`` stays Norway).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml


class ConfigError(Exception):
    """A config file problem: ``str(e)`` is ``file:line: problem`` (``file: problem`` without a line)."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path, self.line, self.message = str(path), line, message
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")


# -- YAML that remembers lines ------------------------------------------------------------------


class LineMap(dict[Any, Any]):
    """A mapping that remembers its own line and the line of each key."""

    line: int = 1
    lines: dict[Any, int]


class LineSeq(list[Any]):
    """A list that remembers its own line and the line of each item."""

    line: int = 1
    lines: list[int]


def new_map(line: int, values: dict[str, Any] | None = None) -> LineMap:
    data = LineMap(values or {})
    data.line, data.lines = line, dict.fromkeys(data, line)
    return data


class LineLoader(yaml.SafeLoader):
    path: Path = Path("?")


LineLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
LineLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_map(loader: LineLoader, node: yaml.MappingNode) -> Any:
    data = new_map(node.start_mark.line + 1)
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str | int | float):
            raise ConfigError(loader.path, line, f"unsupported key {key!r} (expected a plain name)")
        if key in data:
            raise ConfigError(loader.path, line, f"duplicate key {key!r} (first at line {data.lines[key]})")
        data[key], data.lines[key] = loader.construct_object(value_node, deep=True), line


def _construct_seq(loader: LineLoader, node: yaml.SequenceNode) -> Any:
    data = LineSeq()
    data.line, data.lines = node.start_mark.line + 1, [n.start_mark.line + 1 for n in node.value]
    yield data
    data.extend(loader.construct_object(n, deep=True) for n in node.value)


def _construct_timestamp(loader: LineLoader, node: yaml.ScalarNode) -> Any:
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError as exc:
        raise ConfigError(loader.path, node.start_mark.line + 1, f"bad date {node.value!r} ({exc})") from None


LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
