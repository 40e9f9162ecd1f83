"""Publishers: config/publishers.yaml checked, and sources resolved by id, name, alias or domain."""

from __future__ import annotations

import json
import shutil
import textwrap
from datetime import date
from pathlib import Path

import pytest

from worker.config import ConfigError, load_config
from worker.models import Article, RawInput
from worker.normalize import normalize
from worker.notices import attached_notices, is_withheld
from worker.publishers import resolve_publisher

ROOT = Path(__file__).resolve().parents[2]
CONFIG = load_config(ROOT / "config")
PUBLISHERS = CONFIG.publishers
TODAY = date(2025, 1, 1)


@pytest.mark.parametrize(
    ("source", "url", "expected"),
    [
        ("rferl", None, "rferl"),
        ("RFE/RL", None, "rferl"),
        ("rfe-rl", None, "rferl"),
        ("rferl-news", None, "rferl"),
        ("Radio Free Europe/Radio Liberty", None, "rferl"),
        ("unknown", "https://www.svoboda.org/a/1.html", "rferl"),
        ("some-cms", "https://www.currenttime.tv/a/x", "rferl"),
        (None, "https://gandhara.rferl.org/a/x.html", "rferl"),
        (None, "https://RFERL.ORG./a/x.html", "rferl"),
        (None, "https://www.krymr.com/a/1", "rferl"),
        ("kavkaz-uzel", "https://www.kavkaz-uzel.eu/articles/1/", None),  # not RFE/RL's
        ("reuters", "https://www.reuters.com/world/x", None),
        (None, "https://notsvoboda.org/a", None),  # a suffix that is not a subdomain
        (None, "https://svoboda.org.example.com/a", None),
        (None, "not a url", None),
    ],
)
def test_resolve_publisher(source: str | None, url: str | None, expected: str | None) -> None:
    assert resolve_publisher(PUBLISHERS, source, url) == expected


def test_shipped_publishers_know_rferl_and_its_services() -> None:
    (rferl,) = PUBLISHERS
    assert rferl.id == "rferl"
    assert {"RFE/RL", "Radio Free Europe/Radio Liberty"} <= set(rferl.names)
    assert {"rfe-rl", "rferl-news"} <= set(rferl.aliases)
    assert {"rferl.org", "svoboda.org", "svaboda.org", "currenttime.tv", "azattyq.org"} <= set(rferl.domains)
    assert {"azatutyun.am", "radiosvoboda.org", "krymr.com"} <= set(rferl.domains)
    assert not any("kavkaz-uzel" in d for d in rferl.domains)


def _cms(**fields: object) -> RawInput:
    doc = {"title": "T", "body_html": "<p>Body.</p>", "language": "en", **fields}
    return RawInput(format="json", body=json.dumps(doc))


def test_normalize_resolves_the_source_and_keeps_the_id() -> None:
    by_alias = normalize(_cms(source="RFE/RL", guid="g1"), CONFIG.notices, PUBLISHERS)
    plain = normalize(_cms(source="RFE/RL", guid="g1"))
    assert by_alias.source == "rferl"
    assert plain.source == "rfe-rl"  # without publishers: as before
    assert by_alias.id == plain.id  # an id already handed out does not change
    by_domain = normalize(_cms(source="partner", url="https://www.azattyq.org/a/1.html"), (), PUBLISHERS)
    assert by_domain.source == "rferl"
    other = normalize(_cms(source="Kavkaz Uzel", url="https://www.kavkaz-uzel.eu/a/1"), (), PUBLISHERS)
    assert other.source == "kavkaz-uzel"  # unknown sources keep working as before


def _article(source: str, url: str | None = None) -> Article:
    return Article(
        id="a1", source=source, url=url, title="T", language="en", body_text="B", body_html="<p>B</p>",
        content_hash="h",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("source", "url", "notice"),
    [
        ("rferl", None, True),
        ("rfe-rl", None, True),  # stored before publishers existed
        ("rferl-news", None, True),
        ("partner", "https://www.svoboda.org/a/1.html", True),
        ("kavkaz-uzel", "https://www.kavkaz-uzel.eu/a/1", False),
        ("reuters", None, False),
    ],
)
def test_notice_matches_the_publisher_by_alias_or_domain(source: str, url: str | None, notice: bool) -> None:
    ru = CONFIG.audience("ru")
    assert ru is not None
    got = attached_notices(_article(source, url), ru, CONFIG.notices, TODAY, PUBLISHERS)
    assert [n.id for n in got] == (["rferl-undesirable-ru"] if notice else [])
    assert attached_notices(_article(source, url), ru, CONFIG.notices, TODAY) == [] or source == "rferl"


def test_withholding_matches_the_publisher_by_alias(tmp_path: Path) -> None:
    folder = tmp_path / "config"
    shutil.copytree(ROOT / "config", folder)
    (folder / "notices.yaml").write_text(
        "notices:\n  hide:\n    publishers: [rferl]\n    regions: [RU]\n    withhold: true\n"
        "    texts: {en: Hidden.}\n",
        encoding="utf-8",
    )
    config = load_config(folder)
    ru = config.audience("ru")
    assert ru is not None
    art = _article("RFE/RL")
    assert is_withheld(art, ru, config.audiences, config.notices, TODAY, config.publishers)
    assert not is_withheld(art, ru, config.audiences, config.notices, TODAY)


PUBS = """\
publishers:
  rferl:
    names: [RFE/RL]
    aliases: [rferl-news]
    domains: [rferl.org]
"""
ERRORS = [
    ("unknown-key", PUBS + "    domain: [x.org]  # <-\n",
     "publisher 'rferl': unknown key 'domain' (did you mean 'domains'?)"),
    ("bad-id", PUBS + "  Bad Id:  # <-\n    names: [X]\n", "publisher id 'Bad Id'"),
    ("url-as-domain", PUBS.replace("[rferl.org]", "[https://rferl.org/]  # <-"),
     "is not a host name (write the name only"),
    ("domain-twice", PUBS + "  other:\n    domains: [RFERL.org]  # <-\n",
     "domain 'rferl.org' already belongs to publisher 'rferl'"),
    ("alias-clash", PUBS + "  other:\n    aliases: [RFE-RL]  # <-\n",
     "name 'RFE-RL' already belongs to publisher 'rferl'"),
    ("alias-is-an-id", PUBS + "  other:\n    aliases: [rferl]  # <-\n",
     "already belongs to publisher 'rferl'"),
    ("not-a-list", PUBS.replace("[rferl-news]", "rferl-news  # <-"), "aliases: expected a list of strings"),
    ("empty-name", PUBS.replace("[RFE/RL]", "['']  # <-"), "names: '' is not a non-empty string"),
    ("no-letters", PUBS.replace("[RFE/RL]", "['//']  # <-"), "name '//' has no letters or digits"),
    ("top-typo", "publisher:  # <-\n  x: {}\n", "file: unknown key 'publisher'"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "problem"), [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_publishers_yaml_errors_name_file_and_line(tmp_path: Path, text: str, problem: str) -> None:
    folder = tmp_path / "config"
    shutil.copytree(ROOT / "config", folder)
    (folder / "publishers.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    marked = [i for i, line in enumerate(text.splitlines(), 1) if "# <-" in line]
    with pytest.raises(ConfigError) as caught:
        load_config(folder)
    assert str(caught.value).startswith(f"{folder / 'publishers.yaml'}:{marked[0]}: "), str(caught.value)
    assert problem in str(caught.value)


def test_publishers_yaml_is_optional_and_in_the_digest(tmp_path: Path) -> None:
    folder = tmp_path / "config"
    shutil.copytree(ROOT / "config", folder)
    with_file = load_config(folder)
    (folder / "publishers.yaml").unlink()
    without = load_config(folder)
    assert without.publishers == [] and with_file.publishers
    assert without.digest != with_file.digest
