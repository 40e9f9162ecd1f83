"""The retention rule (``worker.retention``): which archive pages and articles may be retired."""

from __future__ import annotations

import pytest

from worker.retention import (
    DAY,
    ArticleAge,
    FeedPages,
    cutoff,
    is_old,
    plan_retirement,
    retirable_pages,
    tombstoned,
)

NOW = 1_800_000_000.0
BEFORE = NOW - 30 * DAY  # a retention of 30 days
OLD, NEW = BEFORE - DAY, BEFORE + DAY


def _feed(pages: dict[int, list[str]], *, full: int | None = None, retired: int = 0) -> FeedPages:
    return FeedPages("global:all", retired, max(pages) if full is None else full, pages)


def _ages(old: list[str], new: list[str] = ()) -> dict[str, ArticleAge]:  # type: ignore[assignment]
    return {**{a: ArticleAge(OLD) for a in old}, **{a: ArticleAge(NEW) for a in new}}


def test_cutoff_is_off_at_zero_days() -> None:
    assert cutoff(NOW, 0) is None
    assert cutoff(NOW, 30) == BEFORE


@pytest.mark.parametrize(
    ("age", "in_window", "old"),
    [
        (ArticleAge(OLD), False, True),
        (ArticleAge(NEW), False, False),  # published within the retention
        (ArticleAge(BEFORE), False, False),  # exactly at the cutoff: not yet past it
        (ArticleAge(OLD), True, False),  # in a feed window
        (ArticleAge(OLD, pending=True), False, False),  # new input staged, an embargo or expiry due
        (ArticleAge(None), False, False),  # no date known: never old
        (None, False, True),  # no record at all: nothing refers to it
    ],
    ids=["old", "recent", "at-cutoff", "in-window", "pending", "no-date", "no-record"],
)
def test_is_old(age: ArticleAge | None, in_window: bool, old: bool) -> None:
    windows = {"a"} if in_window else set()
    assert is_old(age, "a", BEFORE, windows) is old


def test_pages_retire_oldest_first_and_stop_at_the_first_that_must_stay() -> None:
    pages = {1: ["a1", "a2"], 2: ["b1", "b2"], 3: ["c1", "c2"]}
    ages = _ages(["a1", "a2", "c1", "c2", "b1"], new=["b2"])
    # page 3 is entirely old, but page 2 holds a recent article: the chain must have no gap
    assert retirable_pages(_feed(pages), ages, BEFORE, set(), 10) == [1]


def test_an_article_in_a_window_holds_its_page() -> None:
    pages = {1: ["a1", "a2"], 2: ["b1", "b2"]}
    ages = _ages(["a1", "a2", "b1", "b2"])
    assert retirable_pages(_feed(pages), ages, BEFORE, {"a2"}, 10) == []
    assert retirable_pages(_feed(pages), ages, BEFORE, {"b1"}, 10) == [1]
    assert retirable_pages(_feed(pages), ages, BEFORE, set(), 10) == [1, 2]


def test_the_page_being_filled_never_retires() -> None:
    pages = {1: ["a1"], 2: ["b1"]}
    ages = _ages(["a1", "b1"])
    assert retirable_pages(_feed(pages, full=1), ages, BEFORE, set(), 10) == [1]
    assert retirable_pages(_feed(pages, full=0), ages, BEFORE, set(), 10) == []


def test_retirement_goes_on_after_the_pages_retired_before() -> None:
    feed = _feed({3: ["c1"], 4: ["d1"]}, full=4, retired=2)
    assert retirable_pages(feed, _ages(["c1", "d1"]), BEFORE, set(), 10) == [3, 4]
    # a page not read (not in ``pages``) is not guessed at
    assert retirable_pages(_feed({4: ["d1"]}, full=4, retired=2), _ages(["d1"]), BEFORE, set(), 10) == []


def test_a_page_of_withdrawn_or_missing_articles_retires_when_old() -> None:
    # ids whose records are gone count as old; an empty page (every id removed) too
    feed = _feed({1: ["gone1", "gone2"], 2: []}, full=2)
    assert retirable_pages(feed, {}, BEFORE, set(), 10) == [1, 2]


def test_the_plan_is_bounded_in_pages() -> None:
    a = FeedPages("global:all", 0, 3, {1: ["a"], 2: ["b"], 3: ["c"]})
    b = FeedPages("ru:all", 0, 2, {1: ["a"], 2: ["d"]})
    ages = _ages(["a", "b", "c", "d"])
    plan = plan_retirement([a, b], ages, set(), BEFORE, limit=4)
    assert plan.pages == {"global:all": [1, 2, 3], "ru:all": [1]}
    assert plan.page_count == 4
    assert plan_retirement([a, b], ages, set(), BEFORE, limit=0).pages == {}


def test_an_article_on_a_page_still_served_keeps_its_record() -> None:
    # "a" is on the page being retired and on a page of another feed that stays
    assert tombstoned(["a", "b", "c"], still_archived={"a"}) == ["b", "c"]
    assert tombstoned([], still_archived={"a"}) == []
