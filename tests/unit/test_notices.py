"""The notice rules: attachment, dates in force, withholding, language choice, audience resolution."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.config import load_config
from worker.models import Article, Audience, Notice, NoticeText
from worker.notices import (
    attached_notices,
    audience_view,
    in_force,
    is_withheld,
    notice_applies,
    regions_meet,
    resolve_audience,
    withheld_regions,
)

CONFIG = load_config(Path(__file__).resolve().parents[2] / "config")
SHIPPED_NOTICE = CONFIG.notices[0]
RU_REGIONS = ["RU", "UA-43", "UA-40", "UA-14", "UA-09", "UA-23", "UA-65"]
FROM = date(2024, 2, 20)

COUNTRIES = ["RU", "UA", "FR", "US", "DE"]
SUBDIVISIONS = ["UA-43", "UA-40", "UA-30", "RU-MOW", "FR-IDF", "US-CA"]
CODES = COUNTRIES + SUBDIVISIONS


def article(
    source: str = "rferl", section: str | None = "World", restricted: list[str] | None = None
) -> Article:
    return Article(
        id="a1",
        source=source,
        title="Title",
        language="en",
        section=section,
        body_text="Body.",
        body_html="<p>Body.</p>",
        content_hash="h",
        restricted_regions=restricted or [],
    )


def notice(**fields: object) -> Notice:
    values: dict[str, object] = {"id": "n", "texts": {"en": NoticeText(text="English.")}, **fields}
    return Notice.model_validate(values)


def meets_oracle(x: str, y: str) -> bool:
    return x == y or y.startswith(x + "-") or x.startswith(y + "-")


# -- the shipped configuration -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "subdivision", "expected"),
    [
        ("RU", None, "ru"),
        ("UA", "43", "ru"),
        ("UA", "UA-43", "ru"),
        ("UA", "30", "global"),
        (None, None, "global"),
        ("ZZ", None, "global"),
        ("UA", None, "global"),
        ("ru", None, "ru"),
        ("ua", "ua-40", "ru"),
        (None, "UA-43", "ru"),
        (None, "43", "global"),
        ("FR", "UA-43", "global"),  # a subdivision of another country is ignored
        ("RU", "MOW", "ru"),
        ("", "", "global"),
    ],
)
def test_resolve_audience_shipped(country: str | None, subdivision: str | None, expected: str) -> None:
    assert resolve_audience(CONFIG.audiences, country, subdivision).id == expected


def test_resolve_audience_most_specific_wins() -> None:
    audiences = [
        Audience(id="global", default=True),
        Audience(id="ua", regions=["UA"], language="uk"),
        Audience(id="ru", regions=["RU", "UA-43"], language="ru"),
    ]
    assert resolve_audience(audiences, "UA", "43").id == "ru"
    assert resolve_audience(audiences, "UA", "30").id == "ua"
    assert resolve_audience(audiences, "UA", None).id == "ua"
    assert resolve_audience(list(reversed(audiences)), "UA", "UA-43").id == "ru"


@pytest.mark.parametrize(
    ("audience_id", "today", "source", "expected_language"),
    [
        ("ru", FROM, "rferl", "ru"),
        ("ru", FROM - timedelta(days=1), "rferl", None),
        ("ru", date(2030, 1, 1), "rferl", "ru"),
        ("ru", FROM, "other", None),
        ("global", FROM, "rferl", None),
    ],
    ids=["ru-first-day", "ru-day-before", "ru-later", "ru-other-publisher", "global-never"],
)
def test_shipped_notice(audience_id: str, today: date, source: str, expected_language: str | None) -> None:
    audience = CONFIG.audience(audience_id)
    assert audience is not None
    view = audience_view(article(source=source), audience, CONFIG.audiences, CONFIG.notices, today)
    assert view is not None and view.audience == audience_id
    expected = [] if expected_language is None else [("rferl-undesirable-ru", expected_language)]
    assert [(n.id, n.language) for n in view.notices] == expected
    for attached in view.notices:
        assert attached.text == SHIPPED_NOTICE.texts[expected_language or "en"].text
        assert attached.url == SHIPPED_NOTICE.url and attached.placement == "start"


# -- region and date rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [("UA", "UA-43", True), ("UA-43", "UA", True), ("RU", "UA-43", False), ("ru", "RU", True),
     ("UA-43", "UA-40", False), ("UA", "RU", False), ("US-CA", "US-CA", True)],
)  # fmt: skip
def test_regions_meet(a: str, b: str, expected: bool) -> None:
    assert regions_meet(a, b) is expected


@pytest.mark.parametrize(
    ("start", "until", "today", "expected"),
    [
        (FROM, None, FROM, True),
        (FROM, None, FROM - timedelta(days=1), False),
        (None, FROM, FROM, True),
        (None, FROM, FROM + timedelta(days=1), False),
        (FROM, FROM, FROM, True),
        (None, None, date(1990, 1, 1), True),
    ],
    ids=["from-inclusive", "day-before", "until-inclusive", "day-after", "single-day", "open"],
)
def test_in_force_edges(start: date | None, until: date | None, today: date, expected: bool) -> None:
    assert in_force(notice(effective_from=start, effective_until=until), today) is expected


@given(
    start=st.dates(date(2000, 1, 1), date(2050, 1, 1)),
    length=st.integers(0, 400),
    offset=st.integers(-3, 3),
    at_end=st.booleans(),
)
def test_dates_in_force_at_their_edges(start: date, length: int, offset: int, at_end: bool) -> None:
    until = start + timedelta(days=length)
    today = (until if at_end else start) + timedelta(days=offset)
    rule = notice(effective_from=start, effective_until=until, regions=["RU"])
    ru = Audience(id="ru", regions=["RU"], language="ru")
    attached = attached_notices(article(), ru, [rule], today)
    assert in_force(rule, today) is (start <= today <= until)
    assert len(attached) == (1 if start <= today <= until else 0)


# -- attachment, as a property --------------------------------------------------------------------

regions = st.lists(st.sampled_from(CODES), unique=True, max_size=4)


@given(
    notice_regions=regions,
    audience_regions=regions,
    publishers=st.sampled_from([[], ["rferl"], ["other"], ["RFERL", "x"]]),
    source=st.sampled_from(["rferl", "other"]),
    sections=st.sampled_from([[], ["afghanistan-pakistan"], ["World"]]),
    section=st.sampled_from([None, "World", "Afghanistan/Pakistan"]),
    start=st.none() | st.integers(-5, 5),
    length=st.none() | st.integers(0, 5),
    placement=st.sampled_from(["start", "end"]),
)
def test_notice_attached_exactly_where_its_rule_holds(
    notice_regions: list[str],
    audience_regions: list[str],
    publishers: list[str],
    source: str,
    sections: list[str],
    section: str | None,
    start: int | None,
    length: int | None,
    placement: str,
) -> None:
    today = date(2025, 6, 1)
    begin = None if start is None else today + timedelta(days=start)
    end = None if length is None else (begin or today) + timedelta(days=length)
    rule = notice(
        regions=notice_regions, publishers=publishers, sections=sections, placement=placement,
        effective_from=begin, effective_until=end, url="https://www.example.org/n",
    )  # fmt: skip
    audience = Audience(id="a", regions=audience_regions, language="en")
    item = article(source=source, section=section)
    expected = (
        (not publishers or source in [p.lower() for p in publishers])
        and (not sections or (section is not None and section.lower().replace("/", "-") in
                              [s.lower() for s in sections]))
        and (begin is None or begin <= today)
        and (end is None or today <= end)
        and (not notice_regions or any(meets_oracle(a, r) for a in audience_regions for r in notice_regions))
    )  # fmt: skip
    attached = attached_notices(item, audience, [rule, rule], today)
    assert notice_applies(rule, item, audience, today) is expected
    assert len(attached) == (1 if expected else 0)
    if expected:
        assert attached[0].placement == placement and attached[0].url == "https://www.example.org/n"


@given(audience_regions=regions, today=st.dates(date(2023, 1, 1), date(2027, 1, 1)))
def test_shipped_notice_attached_exactly_where_it_applies(audience_regions: list[str], today: date) -> None:
    audience = Audience(id="a", regions=audience_regions, language="ru")
    attached = attached_notices(article(), audience, CONFIG.notices, today)
    holds = today >= FROM and any(meets_oracle(a, r) for a in audience_regions for r in RU_REGIONS)
    assert [n.id for n in attached] == (["rferl-undesirable-ru"] if holds else [])
    assert attached_notices(article(source="other"), audience, CONFIG.notices, today) == []


@given(
    languages=st.sets(st.sampled_from(["en", "ru", "uk", "fr", "pt"]), min_size=1),
    default_index=st.integers(0, 10),
    wanted=st.sampled_from(["en", "ru", "uk", "fr", "pt", "pt-BR", "de"]),
)
def test_text_language_falls_back_to_default(languages: set[str], default_index: int, wanted: str) -> None:
    ordered = sorted(languages)
    default = ordered[default_index % len(ordered)]
    rule = notice(texts={lang: NoticeText(text=f"text-{lang}") for lang in ordered}, default_language=default)
    (attached,) = attached_notices(article(), Audience(id="a", language=wanted), [rule], FROM)
    expected = wanted.split("-")[0] if wanted.split("-")[0] in languages else default
    assert (attached.language, attached.text) == (expected, f"text-{expected}")


# -- withholding, as a property -------------------------------------------------------------------


def _locations() -> list[tuple[str, str | None]]:
    return [(c, None) for c in COUNTRIES] + [(s.split("-")[0], s) for s in SUBDIVISIONS]


@st.composite
def audience_sets(draw: st.DrawFn) -> list[Audience]:
    """A default audience and up to three others; each code belongs to at most one of them."""
    owners = draw(st.lists(st.sampled_from([None, None, "global", "a0", "a1", "a2"]), min_size=len(CODES),
                           max_size=len(CODES)))  # fmt: skip
    ids = ["global", "a0", "a1", "a2"][: draw(st.integers(1, 4))]
    claims = list(zip(CODES, owners, strict=True))
    return [Audience(id=i, default=i == "global", regions=[c for c, o in claims if o == i]) for i in ids]


@given(audiences=audience_sets(), restricted=st.lists(st.sampled_from(CODES), unique=True, max_size=3))
def test_withheld_exactly_for_audiences_that_meet_and_never_leaks(
    audiences: list[Audience], restricted: list[str]
) -> None:
    item = article(restricted=[r.lower() for r in restricted])
    readers = {audience.id: [] for audience in audiences}  # audience -> locations of its readers
    for country, subdivision in _locations():
        short = subdivision.split("-")[1] if subdivision else None
        readers[resolve_audience(audiences, country, short).id].append((country, subdivision))
    for audience in audiences:
        could_be_there = any(c in restricted or s in restricted for c, s in readers[audience.id])
        view = audience_view(item, audience, audiences, [], FROM)
        assert (view is None) is could_be_there, (audience.id, readers[audience.id])
        assert is_withheld(item, audience, audiences, [], FROM) is could_be_there
    for country, subdivision in _locations():
        if country in restricted or subdivision in restricted:
            audience = resolve_audience(audiences, country, subdivision)
            assert audience_view(item, audience, audiences, [], FROM) is None


@pytest.mark.parametrize(
    ("restricted", "withheld_for"),
    [(["FR"], {"global"}), (["RU"], {"ru"}), (["UA-43"], {"ru"}), (["UA"], {"global", "ru"}), ([], set())],
    ids=["unclaimed-country", "claimed-country", "claimed-subdivision", "partly-claimed-country", "none"],
)
def test_withheld_shipped(restricted: list[str], withheld_for: set[str]) -> None:
    item = article(restricted=restricted)
    hidden = {a.id for a in CONFIG.audiences if audience_view(item, a, CONFIG.audiences, [], FROM) is None}
    assert hidden == withheld_for


@pytest.mark.parametrize(
    ("today", "source", "section", "expected"),
    [
        (FROM, "rferl", "World", {"UA-43", "BY"}),
        (FROM - timedelta(days=1), "rferl", "World", {"BY"}),
        (FROM, "other", "World", {"BY"}),
        (FROM, "rferl", "Europe", {"BY"}),
    ],
    ids=["applies", "not-yet-in-force", "other-publisher", "other-section"],
)
def test_withhold_notice(today: date, source: str, section: str, expected: set[str]) -> None:
    rule = notice(id="w", regions=["ua-43"], publishers=["rferl"], sections=["world"], withhold=True,
                  effective_from=FROM)  # fmt: skip
    item = article(source=source, section=section, restricted=["by"])
    assert withheld_regions(item, [rule], today) == expected
    ru = CONFIG.audience("ru")
    assert ru is not None
    view = audience_view(item, ru, CONFIG.audiences, [rule], today)
    assert (view is None) is ("UA-43" in expected)
    assert view is None or view.notices == []  # a withhold notice hides; it is never attached
