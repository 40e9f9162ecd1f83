"""Load and check ``config/``: audiences, notices, upstream sources and publishers.

Every problem stops start-up with one line that names the file, the line and the problem:
``config/audiences.yaml:12: audience 'ru': unknown region code 'UA-99' (expected ...)``.
The YAML is read with a loader that remembers the line of every key and list item, and with
YAML 1.2 booleans only (``NO``, Norway's code, stays a string). The shipped files document
every field.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import pycountry
import yaml
from pydantic import BaseModel, ConfigDict, StrictBool, StrictInt, ValidationError

from worker.config_publishers import load_publishers
from worker.config_yaml import ConfigError, LineLoader, LineMap, LineSeq, new_map
from worker.models import Audience, Notice, NoticeText, Publisher
from worker.names import region_code

__all__ = ["Config", "ConfigError", "Source", "load_config", "region_problem"]

FILES = ("audiences.yaml", "notices.yaml", "sources.yaml", "publishers.yaml")
OPTIONAL = ("sources.yaml", "publishers.yaml")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_ID_HINT = "expected lower-case letters, digits, - or _"
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_REGION_HINT = "(expected an ISO 3166-1 alpha-2 or ISO 3166-2 code)"
_AUDIENCE_KEYS = ("default", "language", "regions", "title")
_NOTICE_KEYS = tuple(f for f in Notice.model_fields if f != "id")
_SOURCE_KEYS = ("id", "url", "publisher", "every", "full_page")


class Source(BaseModel):
    """One upstream RSS or Atom feed to poll."""

    model_config = ConfigDict(extra="forbid")

    id: str
    url: str
    publisher: str
    every: StrictInt = 300
    full_page: StrictBool = False


class Config(BaseModel):
    """The checked configuration. ``digest`` changes whenever one of the files changes."""

    audiences: list[Audience]
    notices: list[Notice]
    sources: list[Source]
    digest: str
    publishers: list[Publisher] = []

    def audience(self, audience_id: str) -> Audience | None:
        return next((a for a in self.audiences if a.id == audience_id), None)

    @property
    def default_audience(self) -> Audience:
        for audience in self.audiences:
            if audience.default:
                return audience
        raise ConfigError("audiences.yaml", None, "no default audience")

    def source(self, source_id: str) -> Source | None:
        return next((s for s in self.sources if s.id == source_id), None)


def load_config(directory: Path | str) -> Config:
    """Read, check and return the configuration in ``directory``; raise ``ConfigError`` on any problem.

    ``audiences.yaml`` and ``notices.yaml`` are required; without ``sources.yaml`` nothing is polled,
    without ``publishers.yaml`` a source is only its own id.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise ConfigError(
            folder.absolute(),
            None,
            "config directory not found (set SYNDICATE_CONFIG_DIR to the folder that holds "
            "audiences.yaml and notices.yaml)",
        )
    digest = hashlib.sha256()
    files: dict[str, _File] = {}
    for name in FILES:
        path = folder / name
        if not path.is_file() and name in OPTIONAL:
            files[name] = _File(path, None)
            continue
        if not path.is_file():
            raise ConfigError(path, None, "file not found (required)")
        raw = path.read_bytes()
        digest.update(name.encode() + b"\0" + raw + b"\0")
        files[name] = _File(path, raw)
    return Config(
        audiences=files["audiences.yaml"].audiences(),
        notices=files["notices.yaml"].notices(),
        sources=files["sources.yaml"].sources(),
        digest=digest.hexdigest(),
        publishers=load_publishers(files["publishers.yaml"]),
    )


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


class _File:
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
            if not isinstance(entry_id, str) or not _ID.match(entry_id):
                self.fail(line, f"{kind} id {entry_id!r}: {_ID_HINT}")
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

    # -- the three files

    def audiences(self) -> list[Audience]:
        data = self.top(("default", "audiences"), "audiences")
        default_id, default_line = data.get("default"), data.lines.get("default", data.line)
        audiences: list[Audience] = []
        owner: dict[str, str] = {}
        for audience_id, fields, line in self.entries(data, "audiences", "audience"):
            what = f"audience '{audience_id}'"
            self.keys(fields, _AUDIENCE_KEYS, what)
            if "language" not in fields:
                self.fail(line, f"{what}: missing key 'language'")
            self.language(fields["language"], fields.lines["language"], what)
            regions = self.regions(fields, what)
            for code, code_line in zip(regions, getattr(fields.get("regions"), "lines", []), strict=True):
                if code in owner:
                    self.fail(
                        code_line,
                        f"{what}: region {code!r} is already claimed by audience "
                        f"'{owner[code]}' (audiences may not overlap)",
                    )
                owner[code] = audience_id
            audience = self.build(Audience, {**fields, "id": audience_id, "regions": regions}, fields, what)
            if audience.default and default_id not in (None, audience_id):
                self.fail(
                    fields.lines["default"],
                    f"{what}: two default audiences ('{default_id}' and '{audience_id}')",
                )
            if audience.default:
                default_id, default_line = audience_id, fields.lines["default"]
            audiences.append(audience)
        if not audiences:
            self.fail(data.lines["audiences"], "no audiences (expected at least the default one)")
        if default_id is None:
            self.fail(data.line, "no default audience (expected 'default: AUDIENCE-ID')")
        if not any(a.id == default_id for a in audiences):
            self.fail(default_line, f"default audience {default_id!r} is not defined under 'audiences'")
        return [a.model_copy(update={"default": a.id == default_id}) for a in audiences]

    def notices(self) -> list[Notice]:
        data = self.top(("notices",), "notices")
        notices = []
        for notice_id, fields, line in self.entries(data, "notices", "notice"):
            what = f"notice '{notice_id}'"
            self.keys(fields, _NOTICE_KEYS, what)
            values = {**fields, "id": notice_id, "regions": self.regions(fields, what)}
            notice: Notice = self.build(
                Notice, {**values, "texts": self.texts(fields, line, what)}, fields, what
            )
            lines = fields.lines
            self.language(notice.default_language, lines.get("default_language", line), what)
            if notice.default_language not in notice.texts:
                self.fail(
                    lines.get("default_language", lines.get("texts", line)),
                    f"{what}: no text for its default language '{notice.default_language}' "
                    f"(texts has: {', '.join(notice.texts) or 'none'})",
                )
            start, end = notice.effective_from, notice.effective_until
            if start and end and end < start:
                self.fail(
                    lines["effective_until"],
                    f"{what}: effective_until {end} is before effective_from {start}",
                )
            if notice.url is not None:
                self.http_url(notice.url, lines["url"], what)
            if notice.withhold and not notice.regions:
                self.fail(
                    lines["withhold"], f"{what}: withhold: true needs regions (it would hide everywhere)"
                )
            notices.append(notice)
        return notices

    def texts(self, fields: LineMap, line: int, what: str) -> dict[str, NoticeText]:
        texts = self.mapping(fields.get("texts"), fields.lines.get("texts", line), f"{what}: texts")
        out = {}
        for language, value in texts.items():
            text_line = texts.lines[language]
            self.language(language, text_line, what)
            entry = new_map(text_line, {"text": value}) if isinstance(value, str) else value
            entry = self.mapping(entry, text_line, f"{what}: texts: {language}")
            self.keys(entry, ("text", "title"), f"{what}: texts: {language}")
            if not isinstance(entry.get("text"), str) or not entry["text"].strip():
                self.fail(text_line, f"{what}: texts: {language}: text must be a non-empty string")
            title = entry.get("title")
            out[language] = self.build(
                NoticeText, {"text": entry["text"].strip(), "title": title}, entry, what
            )
        return out

    def sources(self) -> list[Source]:
        if self.document is None:
            return []
        data = self.top(("sources",), "sources")
        items = data["sources"]
        if items is None:
            return []
        if not isinstance(items, LineSeq):
            self.fail(data.lines["sources"], "sources: expected a list")
        sources: list[Source] = []
        for value, line in zip(items, items.lines, strict=True):
            fields = self.mapping(value, line, "source")
            source_id = fields.get("id")
            what = f"source '{source_id}'" if isinstance(source_id, str) else f"source #{len(sources) + 1}"
            self.keys(fields, _SOURCE_KEYS, what)
            source: Source = self.build(Source, dict(fields), fields, what)
            if not _ID.match(source.id):
                self.fail(fields.lines["id"], f"{what}: id: {_ID_HINT}")
            if any(s.id == source.id for s in sources):
                self.fail(fields.lines["id"], f"{what}: duplicate source id")
            self.http_url(source.url, fields.lines["url"], what)
            if source.every < 10:
                self.fail(
                    fields.lines["every"],
                    f"{what}: every: {source.every} is too often (expected at least 10 seconds)",
                )
            sources.append(source)
        return sources


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())
