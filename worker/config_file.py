"""One ``config/`` file read and checked: the YAML parsed, and the checks every file shares.

:class:`ConfigFile` turns a file's bytes into line-remembering YAML (``config_yaml``) and offers
the generic checks the files are made of (a mapping, its known keys, ``id: {fields}`` entries, a
pydantic model built from them, region codes, a language, an http(s) URL); each problem is a
:class:`ConfigError` naming the file and the line. ``config`` checks audiences, notices and
sources with them, ``config_publishers`` the publishers.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import pycountry
import yaml
from pydantic import BaseModel, ValidationError

from worker.config_yaml import ConfigError, LineLoader, LineMap, LineSeq, new_map
from worker.names import region_code

ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
ID_HINT = "expected lower-case letters, digits, - or _"
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_REGION_HINT = "(expected an ISO 3166-1 alpha-2 or ISO 3166-2 code)"


def region_problem(code: object) -> str | None:
    """Why ``code`` is not an ISO 3166-1 alpha-2 or ISO 3166-2 code (``None`` when it is one)."""
    if not isinstance(code, str):
        return f"region code {code!r} is not a string {_REGION_HINT}"
    upper = region_code(code)
    if "-" in upper and pycountry.subdivisions.get(code=upper) is not None:
        return None
    if len(upper) == 2 and pycountry.countries.get(alpha_2=upper) is not None:
        return None
    return f"unknown region code {code!r} {_REGION_HINT}"


# -- one file, checked ----------------------------------------------------------------------------


class ConfigFile:
    """One config file: parses it and raises ``ConfigError`` naming this file."""

    def __init__(self, path: Path, raw: bytes | None) -> None:
        self.path = path
        self.document = None if raw is None else self._parse(raw)

    def fail(self, line: int | None, message: str) -> NoReturn:
        raise ConfigError(self.path, line, message)

    def _parse(self, raw: bytes) -> Any:
        try:
            source = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.fail(None, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
        try:
            loader = LineLoader(source)  # the reader already refuses control characters here
        except yaml.reader.ReaderError as exc:
            line = source.count("\n", 0, exc.position) + 1
            char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
            self.fail(line, f"invalid YAML: control character U+{char:04X} is not allowed in YAML text")
        except yaml.YAMLError as exc:
            self.fail(None, f"invalid YAML: {_one_line(exc)}")
        loader.path = self.path
        try:
            return loader.get_single_data()
        except yaml.MarkedYAMLError as exc:
            mark, where = exc.problem_mark or exc.context_mark, exc.context_mark
            problem = ": ".join(str(p) for p in (exc.context, exc.problem) if p)
            if where and mark and where.line != mark.line:
                problem += f" (opened at line {where.line + 1})"
            self.fail(mark.line + 1 if mark else None, f"invalid YAML: {problem}")
        except yaml.YAMLError as exc:
            self.fail(None, f"invalid YAML: {_one_line(exc)}")
        except RecursionError:
            self.fail(None, "invalid YAML: nested too deeply")
        finally:
            loader.dispose()

    # -- generic checks

    def mapping(self, value: Any, line: int, what: str) -> LineMap:
        if value is None:
            return new_map(line)
        if not isinstance(value, LineMap):
            kind = "a list" if isinstance(value, list) else type(value).__name__
            self.fail(line, f"{what}: expected a mapping, got {kind}")
        return value

    def keys(self, data: LineMap, allowed: tuple[str, ...], what: str) -> None:
        for key, line in data.lines.items():
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"expected one of: {', '.join(allowed)}"
                self.fail(line, f"{what}: unknown key {key!r} ({hint})")

    def top(self, allowed: tuple[str, ...], required: str) -> LineMap:
        data = self.mapping(self.document, 1, "file")
        self.keys(data, allowed, "file")
        if required not in data:
            self.fail(data.line, f"missing key '{required}'")
        return data

    def entries(self, data: LineMap, key: str, kind: str) -> list[tuple[str, LineMap, int]]:
        """The ``id: {fields}`` entries under ``data[key]``, their ids checked."""
        entries, out = self.mapping(data[key], data.lines[key], key), []
        for entry_id, value in entries.items():
            line = entries.lines[entry_id]
            if not isinstance(entry_id, str) or not ID.match(entry_id):
                self.fail(line, f"{kind} id {entry_id!r}: {ID_HINT}")
            out.append((entry_id, self.mapping(value, line, f"{kind} '{entry_id}'"), line))
        return out

    def build(self, model: type[BaseModel], values: dict[str, Any], fields: LineMap, what: str) -> Any:
        try:
            return model.model_validate(values)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = str(error["loc"][0]) if error["loc"] else ""
            got = repr(error["input"])
            got = "" if error["type"] == "missing" else f" (got {got[:57] + '...' if len(got) > 60 else got})"
            self.fail(fields.lines.get(field, fields.line), f"{what}: {field}: {error['msg']}{got}")

    def regions(self, fields: LineMap, what: str) -> list[str]:
        """The region codes of ``fields['regions']``, checked and upper-cased."""
        items = fields.get("regions")
        if items is None:
            return []
        if not isinstance(items, LineSeq):
            self.fail(fields.lines["regions"], f"{what}: regions: expected a list of region codes")
        codes: list[str] = []
        for code, line in zip(items, items.lines, strict=True):
            problem = region_problem(code)
            if problem:
                self.fail(line, f"{what}: {problem}")
            if region_code(code) in codes:
                self.fail(line, f"{what}: region {region_code(code)!r} listed twice")
            codes.append(region_code(code))
        return codes

    def language(self, value: Any, line: int, what: str) -> None:
        primary = value.split("-")[0].lower() if isinstance(value, str) and _LANGUAGE.match(value) else ""
        key = {2: "alpha_2", 3: "alpha_3"}.get(len(primary))
        if key is None or pycountry.languages.get(**{key: primary}) is None:
            self.fail(line, f"{what}: unknown language {value!r} (expected a BCP 47 tag like 'en')")

    def http_url(self, value: Any, line: int, what: str) -> None:
        parts = urlsplit(value) if isinstance(value, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            self.fail(line, f"{what}: url {value!r} is not an http(s) URL")


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())
