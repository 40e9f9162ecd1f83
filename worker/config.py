"""Load and check ``config/``: audiences, notices, upstream sources and publishers.

Every problem stops start-up with one line that names the file, the line and the problem:
``config/audiences.yaml:12: audience 'ru': unknown region code 'UA-99' (expected ...)``.
The YAML is read with a loader that remembers the line of every key and list item, and with
YAML 1.2 booleans only (``NO``, Norway's code, stays a string). The shipped files document
every field.

Parsing a file and the checks all files share are in ``config_file``; here the three files'
own rules (audiences, notices, sources) and the checked :class:`Config`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, StrictBool, StrictInt

from worker.config_file import ID, ID_HINT, ConfigFile, region_problem
from worker.config_publishers import load_publishers
from worker.config_yaml import ConfigError, LineMap, LineSeq, new_map
from worker.models import Audience, Notice, NoticeText, Publisher

__all__ = ["Config", "ConfigError", "Source", "load_config", "region_problem"]

FILES = ("audiences.yaml", "notices.yaml", "sources.yaml", "publishers.yaml")
OPTIONAL = ("sources.yaml", "publishers.yaml")
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


# -- the three files, checked ---------------------------------------------------------------------


class _File(ConfigFile):
    """One of the three files: audiences, notices or sources, checked."""

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
            if not ID.match(source.id):
                self.fail(fields.lines["id"], f"{what}: id: {ID_HINT}")
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
