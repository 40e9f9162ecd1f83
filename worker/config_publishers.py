"""``config/publishers.yaml``: publishers by id, with their names, aliases and web domains.

Checked like the other config files: every problem is one ``file:line: problem`` error. A name or
alias (compared as a slug: ``RFE/RL`` is ``rfe-rl``) and a domain belong to one publisher only.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from worker.config_yaml import LineMap, LineSeq
from worker.models import Publisher
from worker.publishers import name_key

if TYPE_CHECKING:
    from worker.config_file import ConfigFile

_KEYS = ("names", "aliases", "domains")
_HOST = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")


def load_publishers(file: ConfigFile) -> list[Publisher]:
    """The publishers of ``file`` (an absent file: none)."""
    if file.document is None:
        return []
    data = file.top(("publishers",), "publishers")
    if data["publishers"] is None:
        return []
    publishers: list[Publisher] = []
    owner: dict[str, str] = {}  # name key or domain -> publisher id
    for publisher_id, fields, line in file.entries(data, "publishers", "publisher"):
        what = f"publisher '{publisher_id}'"
        file.keys(fields, _KEYS, what)
        _claim(file, owner, name_key(publisher_id), publisher_id, line, what, "id")
        names = _strings(file, fields, "names", what)
        aliases = _strings(file, fields, "aliases", what)
        for value, value_line in (*names, *aliases):
            key = name_key(value)
            if not key:
                file.fail(value_line, f"{what}: name {value!r} has no letters or digits")
            if owner.get(key) != publisher_id:
                _claim(file, owner, key, publisher_id, value_line, what, f"name {value!r}")
        domains = []
        for value, value_line in _strings(file, fields, "domains", what):
            domain = value.strip().rstrip(".").lower()
            if not _HOST.match(domain):
                file.fail(
                    value_line,
                    f"{what}: domains: {value!r} is not a host name (write the name only, e.g. svoboda.org)",
                )
            _claim(file, owner, "domain:" + domain, publisher_id, value_line, what, f"domain {domain!r}")
            domains.append(domain)
        publishers.append(
            Publisher(
                id=publisher_id,
                names=[v for v, _ in names],
                aliases=[v for v, _ in aliases],
                domains=domains,
            )
        )
    return publishers


def _strings(file: ConfigFile, fields: LineMap, key: str, what: str) -> list[tuple[str, int]]:
    items: Any = fields.get(key)
    if items is None:
        return []
    if not isinstance(items, LineSeq):
        file.fail(fields.lines[key], f"{what}: {key}: expected a list of strings")
    out = []
    for value, line in zip(items, items.lines, strict=True):
        if not isinstance(value, str) or not value.strip():
            file.fail(line, f"{what}: {key}: {value!r} is not a non-empty string")
        out.append((value.strip(), line))
    return out


def _claim(
    file: ConfigFile, owner: dict[str, str], key: str, pid: str, line: int, what: str, label: str
) -> None:
    other = owner.get(key)
    if other is not None:
        already = "listed twice" if other == pid else f"already belongs to publisher '{other}'"
        file.fail(line, f"{what}: {label} {already}")
    owner[key] = pid
