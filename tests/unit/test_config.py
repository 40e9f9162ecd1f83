"""Loading and checking config/: the shipped files, and one named error per kind of mistake."""

from __future__ import annotations

import shutil
import textwrap
from datetime import date
from pathlib import Path

import pytest

from worker.config import ConfigError, load_config, region_problem

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "config"
BROKEN = ROOT / "tests" / "data" / "config"
RU_REGIONS = ["RU", "UA-43", "UA-40", "UA-14", "UA-09", "UA-23", "UA-65"]
EN_TEXT = (
    'RFE/RL has been declared an "undesirable organization" by the Russian government. If you are in '
    "Russia or the Russia-controlled parts of Ukraine and hold a Russian passport or are a stateless person "
    "residing permanently in Russia or the Russia-controlled parts of Ukraine, please note that you could "
    "face fines or imprisonment for sharing, liking, commenting on, or saving our content, or for "
    "contacting us."
)


def test_shipped_config_loads_with_what_the_contract_demands() -> None:
    config = load_config(SHIPPED)
    assert [a.id for a in config.audiences] == ["global", "ru"]
    assert config.default_audience.id == "global"
    assert config.default_audience.language == "en"
    ru = config.audience("ru")
    assert ru is not None and ru.language == "ru" and not ru.default
    assert ru.regions == RU_REGIONS
    assert config.audience("nowhere") is None
    (notice,) = config.notices
    assert notice.id == "rferl-undesirable-ru"
    assert notice.publishers == ["rferl"]
    assert notice.regions == RU_REGIONS
    assert set(notice.texts) == {"en", "ru"}
    assert notice.texts["en"].text == EN_TEXT
    assert "«нежелательной организацией»" in notice.texts["ru"].text
    assert notice.effective_from == date(2024, 2, 20) and notice.effective_until is None
    assert notice.url is not None and notice.url.startswith("https://www.rferl.org/")
    assert config.sources == [] and config.source("rferl-world") is None
    assert len(config.digest) == 64


def test_digest_changes_with_any_file_and_sources_are_optional(tmp_path: Path) -> None:
    folder = tmp_path / "config"
    shutil.copytree(SHIPPED, folder)
    first = load_config(folder).digest
    assert load_config(str(folder)).digest == first
    (folder / "sources.yaml").unlink()
    without_sources = load_config(folder)
    assert without_sources.sources == [] and without_sources.digest != first
    (folder / "sources.yaml").write_text(SOURCE)
    with_source = load_config(folder)
    assert with_source.digest not in (first, without_sources.digest)
    source = with_source.source("rferl-world")
    assert source is not None and source.every == 60 and source.full_page is True
    assert source.publisher == "rferl" and source.url == "https://www.example.org/world/rss.xml"


AUDIENCES = """\
default: global
audiences:
  global: {language: en, regions: []}
  ru: {language: ru, regions: [RU, UA-43]}
"""
NOTICES = """\
notices:
  undesirable:
    publishers: [rferl]
    regions: [RU]
    default_language: en
    texts:
      en: {text: Notice.}
      ru: Уведомление.
"""
SOURCE = """\
sources:
  - id: rferl-world
    url: https://www.example.org/world/rss.xml
    publisher: rferl
    every: 60
    full_page: true
"""


def _write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir()
    for name, text in {"audiences.yaml": AUDIENCES, "notices.yaml": NOTICES, **files}.items():
        if text is not None:
            (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")


# Each case: the file to write, its text with "# <-" marking the line the error must name
# (no marker: the message has no line), and a piece of the message.
ERRORS = [
    ("unknown-region", "audiences.yaml", AUDIENCES + "  ua: {language: uk, regions: [UA-99]}  # <-\n",
     "audience 'ua': unknown region code 'UA-99' (expected an ISO 3166-1 alpha-2 or ISO 3166-2 code)"),
    ("subdivision-is-not-a-country", "audiences.yaml",
     AUDIENCES + "  x:\n    language: en\n    regions:\n      - UA-43X  # <-\n",
     "unknown region code 'UA-43X'"),
    ("region-not-a-list", "audiences.yaml", AUDIENCES + "  x: {language: en, regions: FR}  # <-\n",
     "audience 'x': regions: expected a list of region codes"),
    ("region-listed-twice", "audiences.yaml", AUDIENCES + "  fr: {language: fr, regions: [FR, fr]}  # <-\n",
     "audience 'fr': region 'FR' listed twice"),
    ("overlap", "audiences.yaml",
     AUDIENCES + "  ua:\n    language: uk\n    regions:\n      - UA\n      - ua-43  # <-\n",
     "audience 'ua': region 'UA-43' is already claimed by audience 'ru' (audiences may not overlap)"),
    ("no-default", "audiences.yaml", "audiences:  # <-\n  global: {language: en}\n",
     "no default audience"),
    ("two-defaults", "audiences.yaml", AUDIENCES + "  fr: {language: fr, default: true}  # <-\n",
     "audience 'fr': two default audiences ('global' and 'fr')"),
    ("default-undefined", "audiences.yaml", AUDIENCES.replace("default: global", "default: globl  # <-"),
     "default audience 'globl' is not defined"),
    ("no-audiences", "audiences.yaml", "default: global\naudiences: {}  # <-\n", "no audiences"),
    ("typo-regoins", "audiences.yaml", AUDIENCES + "  fr:\n    language: fr\n    regoins: [FR]  # <-\n",
     "audience 'fr': unknown key 'regoins' (did you mean 'regions'?)"),
    ("typo-top-level", "audiences.yaml", AUDIENCES + "defualt: ru  # <-\n", "file: unknown key 'defualt'"),
    ("missing-language", "audiences.yaml", AUDIENCES + "  fr:  # <-\n    regions: [FR]\n",
     "audience 'fr': missing key 'language'"),
    ("unknown-language", "audiences.yaml", AUDIENCES + "  fr: {language: french!, regions: [FR]}  # <-\n",
     "audience 'fr': unknown language 'french!'"),
    ("duplicate-audience", "audiences.yaml", AUDIENCES + "  ru: {language: ru}  # <-\n",
     "duplicate key 'ru' (first at line 4)"),
    ("bad-audience-id", "audiences.yaml", AUDIENCES + "  Bad Id: {language: en}  # <-\n",
     "audience id 'Bad Id': expected lower-case letters"),
    ("audience-not-a-mapping", "audiences.yaml", AUDIENCES + "  fr: [FR]  # <-\n",
     "audience 'fr': expected a mapping, got a list"),
    ("yaml-syntax", "audiences.yaml", "default: global\naudiences:\n  global: {language: en\n  ru: x  # <-\n",
     "invalid YAML"),
    ("yaml-tab", "audiences.yaml", "default: global\naudiences:\n\tglobal: {language: en}  # <-\n",
     "invalid YAML"),
    ("not-a-mapping", "notices.yaml", "- just a list  # <-\n", "file: expected a mapping, got a list"),
    ("missing-notices-key", "notices.yaml", "# nothing here  # <-\n", "missing key 'notices'"),
    ("no-default-text", "notices.yaml", NOTICES.replace("default_language: en", "default_language: de  # <-"),
     "notice 'undesirable': no text for its default language 'de' (texts has: en, ru)"),
    ("no-default-text-implicit", "notices.yaml",
     "notices:\n  n:\n    regions: [RU]\n    texts:  # <-\n      ru: Текст.\n",
     "notice 'n': no text for its default language 'en' (texts has: ru)"),
    ("empty-text", "notices.yaml", NOTICES.replace("{text: Notice.}", "{text: ''}  # <-"),
     "notice 'undesirable': texts: en: text must be a non-empty string"),
    ("until-before-from", "notices.yaml",
     NOTICES + "    effective_from: 2024-02-20\n    effective_until: 2024-02-19  # <-\n",
     "notice 'undesirable': effective_until 2024-02-19 is before effective_from 2024-02-20"),
    ("bad-date", "notices.yaml", NOTICES + "    effective_from: 2024-02-30  # <-\n",
     "bad date '2024-02-30' (day is out of range for month)"),
    ("bad-date-string", "notices.yaml", NOTICES + "    effective_until: soon  # <-\n",
     "notice 'undesirable': effective_until: Input should be a valid date"),
    ("unknown-notice-key", "notices.yaml", NOTICES + "    publisher: [rferl]  # <-\n",
     "notice 'undesirable': unknown key 'publisher' (did you mean 'publishers'?)"),
    ("unknown-text-key", "notices.yaml", NOTICES.replace("{text: Notice.}", "{txt: Notice.}  # <-"),
     "unknown key 'txt' (did you mean 'text'?)"),
    ("bad-placement", "notices.yaml", NOTICES + "    placement: middle  # <-\n",
     "notice 'undesirable': placement: Input should be 'start' or 'end'"),
    ("bad-withhold", "notices.yaml", NOTICES + "    withhold: maybe  # <-\n",
     "notice 'undesirable': withhold: Input should be a valid boolean"),
    ("withhold-without-regions", "notices.yaml",
     "notices:\n  n:\n    withhold: true  # <-\n    texts: {en: Hidden.}\n", "withhold: true needs regions"),
    ("notice-unknown-region", "notices.yaml", NOTICES.replace("regions: [RU]", "regions: [SU]  # <-"),
     "notice 'undesirable': unknown region code 'SU'"),
    ("notice-url", "notices.yaml", NOTICES + "    url: javascript:alert(1)  # <-\n",
     "notice 'undesirable': url 'javascript:alert(1)' is not an http(s) URL"),
    ("duplicate-notice", "notices.yaml", NOTICES + "  undesirable:  # <-\n    texts: {en: Again.}\n",
     "duplicate key 'undesirable'"),
    ("source-scheme", "sources.yaml", SOURCE.replace("rss.xml", "rss.xml  # <-").replace("https:", "ftp:"),
     "source 'rferl-world': url 'ftp://www.example.org/world/rss.xml' is not an http(s) URL"),
    ("source-every", "sources.yaml", SOURCE.replace("every: 60", "every: 5  # <-"),
     "source 'rferl-world': every: 5 is too often (expected at least 10 seconds)"),
    ("source-every-type", "sources.yaml", SOURCE.replace("every: 60", "every: often  # <-"),
     "source 'rferl-world': every: Input should be a valid integer"),
    ("source-duplicate", "sources.yaml", SOURCE + "  - id: rferl-world  # <-\n    url: https://a.example/\n"
     "    publisher: rferl\n", "source 'rferl-world': duplicate source id"),
    ("source-missing-url", "sources.yaml", "sources:\n  - id: x  # <-\n    publisher: rferl\n",
     "source 'x': url: Field required"),
    ("source-typo", "sources.yaml", SOURCE + "    full-page: true  # <-\n",
     "unknown key 'full-page' (did you mean 'full_page'?)"),
    ("sources-not-a-list", "sources.yaml", "sources: {a: 1}  # <-\n", "sources: expected a list"),
    ("missing-audiences", "audiences.yaml", None, "file not found (required)"),
    ("missing-notices", "notices.yaml", None, "file not found (required)"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "problem"), [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_config_error_names_file_line_and_problem(
    tmp_path: Path, name: str, text: str | None, problem: str
) -> None:
    folder = tmp_path / "config"
    _write(folder, {name: text})
    if text is None:
        (folder / name).unlink(missing_ok=True)
    marked = [i for i, line in enumerate(textwrap.dedent(text or "").splitlines(), 1) if "# <-" in line]
    with pytest.raises(ConfigError) as caught:
        load_config(folder)
    where = f"{folder / name}:{marked[0]}: " if marked else f"{folder / name}: "
    assert str(caught.value).startswith(where), str(caught.value)
    assert problem in str(caught.value)
    assert "\n" not in str(caught.value)
    assert caught.value.line == (marked[0] if marked else None)


@pytest.mark.parametrize("case", sorted(p.name for p in BROKEN.iterdir() if p.is_dir()))
def test_broken_config_dirs(case: str) -> None:
    name, line, problem = (BROKEN / case / "expected-error.txt").read_text(encoding="utf-8").splitlines()
    with pytest.raises(ConfigError) as caught:
        load_config(BROKEN / case)
    prefix = f"{BROKEN / case / name}:{line}: " if line else f"{BROKEN / case / name}: "
    assert str(caught.value).startswith(prefix), str(caught.value)
    assert problem in str(caught.value)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config directory not found"):
        load_config(tmp_path / "absent")


@pytest.mark.parametrize(
    ("yaml_regions", "expected"),
    [
        ("[fr, gb-eng, Ua-40]", ["FR", "GB-ENG", "UA-40"]),
        ("[NO, no, ON]", None),  # Norway stays a string; "no" then repeats it
        ("[NO, GB-ENG]", ["NO", "GB-ENG"]),
    ],
    ids=["upper-cased", "norway-twice", "norway-is-not-false"],
)
def test_region_codes_are_normalized(tmp_path: Path, yaml_regions: str, expected: list[str] | None) -> None:
    folder = tmp_path / "config"
    _write(folder, {"audiences.yaml": AUDIENCES + f"  x: {{language: nb, regions: {yaml_regions}}}\n"})
    if expected is None:
        with pytest.raises(ConfigError, match=r":5: audience 'x': region 'NO' listed twice"):
            load_config(folder)
        return
    audience = load_config(folder).audience("x")
    assert audience is not None and audience.regions == expected


def test_notice_text_shorthand_and_defaults(tmp_path: Path) -> None:
    folder = tmp_path / "config"
    _write(folder, {})
    (notice,) = load_config(folder).notices
    assert notice.texts["ru"].text == "Уведомление." and notice.texts["en"].text == "Notice."
    assert notice.placement == "start" and notice.withhold is False and notice.sections == []
    assert notice.effective_from is None and notice.effective_until is None


@pytest.mark.parametrize(
    ("code", "ok"),
    [("RU", True), ("ua-43", True), ("UA-43", True), ("RU-43", False), ("UA-99", False), ("ZZ", False),
     ("RUS", False), ("", False), (7, False)],
)  # fmt: skip
def test_region_problem(code: object, ok: bool) -> None:
    assert (region_problem(code) is None) is ok
