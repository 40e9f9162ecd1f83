"""Property tests of the config loader: whatever the files hold, ``load_config`` either returns a
configuration or raises ``ConfigError`` naming the file; never another exception.

Three kinds of input: the shipped files with one value replaced, a key removed or a key added
(close to real mistakes); the shipped files with bytes cut out or spliced in (broken YAML,
broken UTF-8); and arbitrary text.
"""

from __future__ import annotations

import copy
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from worker.config import FILES, Config, ConfigError, load_config

SHIPPED = Path(__file__).resolve().parents[2] / "config"
RAW = {name: (SHIPPED / name).read_bytes() for name in FILES}
PARSED = {name: yaml.safe_load(raw) for name, raw in RAW.items()}
PARSED["sources.yaml"] = {
    "sources": [{"id": "world", "url": "https://example.org/rss.xml", "publisher": "rferl", "every": 300}]
}
WORDS = [
    "default", "audiences", "notices", "sources", "language", "regions", "title", "texts", "text",
    "url", "publishers", "sections", "effective_from", "effective_until", "placement", "withhold",
    "default_language", "id", "publisher", "every", "full_page", "global", "ru", "en", "start", "end",
]  # fmt: skip
ODD = [
    "NO",
    "yes",
    "~",
    "null",
    "UA-99",
    "ua-43",
    "RU ",
    "xx-YY",
    "2024-13-45",
    "http://",
    "ftp://x",
    "",
    " ",
]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dates(min_value=date(1, 1, 1)),
    st.sampled_from(WORDS + ODD),
    st.text(max_size=20),
)
keys = st.one_of(st.sampled_from(WORDS), st.text(max_size=8), st.integers(-3, 3), st.booleans())
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a parsed document: mapping keys and list positions."""
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += paths(v, (*prefix, i))
    return out


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, bytes]:
    """The shipped files, one of them changed at one place."""
    name = draw(st.sampled_from(FILES))
    doc = copy.deepcopy(PARSED[name])
    where = draw(st.sampled_from(paths(doc)))
    action = draw(st.sampled_from(["replace", "delete", "add"]))
    parent: Any = doc
    for part in where[:-1]:
        parent = parent[part]
    if not where:
        doc = draw(values)
    elif action == "replace":
        parent[where[-1]] = draw(values)
    elif action == "delete":
        del parent[where[-1]]
    else:
        target = parent[where[-1]]
        if isinstance(target, dict):
            target[draw(keys)] = draw(values)
        elif isinstance(target, list):
            target.append(draw(values))
        else:
            parent[where[-1]] = [target, draw(values)]
    files = {n: yaml.safe_dump(PARSED[n], allow_unicode=True).encode() for n in FILES}
    files[name] = yaml.safe_dump(doc, allow_unicode=True).encode()
    return files


@st.composite
def spliced(draw: st.DrawFn) -> dict[str, bytes]:
    """The shipped files, one of them with bytes cut out and others put in."""
    name = draw(st.sampled_from(FILES))
    raw = RAW[name]
    start = draw(st.integers(0, len(raw)))
    end = draw(st.integers(start, min(len(raw), start + 40)))
    insert = draw(
        st.binary(max_size=12) | st.sampled_from([b"\t", b": ", b"- ", b"&a", b"*a", b"!!python/none", b"{"])
    )
    return {**RAW, name: raw[:start] + insert + raw[end:]}


@st.composite
def arbitrary(draw: st.DrawFn) -> dict[str, bytes]:
    name = draw(st.sampled_from(FILES))
    return {**RAW, name: draw(st.text(max_size=200)).encode("utf-8", "surrogatepass")}


def check(files: dict[str, bytes | None]) -> Config | ConfigError:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, raw in files.items():
            if raw is not None:
                (folder / name).write_bytes(raw)
        try:
            return load_config(folder)
        except ConfigError as exc:
            assert exc.path.startswith(tmp), exc  # the message names the file
            assert exc.message
            return exc


@SETTINGS
@given(mutated())
def test_mutated_config_loads_or_names_the_problem(files: dict[str, bytes]) -> None:
    check(dict(files))


@SETTINGS
@given(spliced())
@example({**RAW, "audiences.yaml": b"\xff\xfe" + RAW["audiences.yaml"]})
@example(
    {**RAW, "sources.yaml": b"a: &a [x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b,*b,*b]\n"}
)
@example({**RAW, "audiences.yaml": b"!!python/object/apply:os.system ['true']"})
def test_spliced_config_loads_or_names_the_problem(files: dict[str, bytes]) -> None:
    check(dict(files))


@pytest.mark.parametrize("nesting", [b"[" * 5000, b"{a: " * 2000], ids=["lists", "mappings"])
def test_deeply_nested_yaml_names_the_problem(nesting: bytes) -> None:
    result = check({**RAW, "notices.yaml": b"notices: " + nesting})
    assert isinstance(result, ConfigError) and "nested" in str(result)


@pytest.mark.parametrize("char", ["\x00", "\x1f", "\x7f", "\ufffe"])
def test_control_character_names_the_problem(char: str) -> None:
    result = check({**RAW, "audiences.yaml": RAW["audiences.yaml"] + f"# {char}\n".encode()})
    assert isinstance(result, ConfigError) and "audiences.yaml" in str(result)


@SETTINGS
@given(arbitrary())
def test_arbitrary_text_loads_or_names_the_problem(files: dict[str, bytes]) -> None:
    check(dict(files))


def test_missing_files_are_named() -> None:
    result = check({**RAW, "notices.yaml": None})
    assert isinstance(result, ConfigError) and "notices.yaml" in str(result)
    assert isinstance(check({**RAW, "sources.yaml": None}), Config)  # optional: nothing is polled
