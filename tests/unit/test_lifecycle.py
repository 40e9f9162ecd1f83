"""The life cycle decided without Redis: embargo, expiry, kill, the source's pub_status."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.test_ingest_plan import AUDIENCES, NOTICES, SUBS, article, stored
from worker.ingest import plan_ingest
from worker.lifecycle import CANCELED, EXPIRED, WITHHELD, Life, decide
from worker.models import Article, IngestCommit, StoredArticle

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("fields", "kill", "expected"),
    [
        ({}, None, Life("published")),
        ({"embargoed_until": NOW + SECOND}, None,
         Life("embargoed", until=NOW + SECOND, next_change=NOW + SECOND)),
        ({"embargoed_until": NOW}, None, Life("published")),  # at the instant: shown
        ({"embargoed_until": NOW - SECOND}, None, Life("published")),
        ({"expires_at": NOW + SECOND}, None, Life("published", next_change=NOW + SECOND)),
        ({"expires_at": NOW}, None, Life("withdrawn", EXPIRED)),  # at the instant: gone
        ({"embargoed_until": NOW + 2 * SECOND, "expires_at": NOW + SECOND}, None,
         Life("embargoed", until=NOW + 2 * SECOND, next_change=NOW + SECOND)),
        ({"embargoed_until": NOW + SECOND, "expires_at": NOW - SECOND}, None, Life("withdrawn", EXPIRED)),
        ({"pub_status": "withheld"}, None, Life("embargoed", WITHHELD)),
        ({"pub_status": "withheld", "expires_at": NOW + SECOND}, None,
         Life("embargoed", WITHHELD, next_change=NOW + SECOND)),
        ({"pub_status": "canceled", "embargoed_until": NOW + SECOND}, None, Life("withdrawn", CANCELED)),
        ({"embargoed_until": NOW + SECOND}, "legal takedown", Life("withdrawn", "legal takedown")),
        ({}, "", Life("withdrawn", "withdrawn by an operator")),
    ],
    ids=[
        "plain", "embargo-a-second-ahead", "embargo-at-the-instant", "embargo-past", "expires-later",
        "expires-at-the-instant", "expiry-before-the-embargo-lifts", "arrives-expired", "withheld",
        "withheld-then-expires", "canceled", "killed", "killed-without-reason",
    ],
)  # fmt: skip
def test_decide(fields: dict[str, object], kill: str | None, expected: Life) -> None:
    assert decide(article(**fields), NOW, kill) == expected


def test_naive_times_are_utc() -> None:
    a = article(embargoed_until=datetime(2026, 12, 2, 12, 0, 1))
    assert decide(a, datetime(2026, 12, 2, 12, 0), None).status == "embargoed"


def plan(a: Article, previous: StoredArticle | None = None, *, at: datetime = NOW, kill: str | None = None,
         revisit: bool = False) -> IngestCommit | None:  # fmt: skip
    return plan_ingest(
        a,
        previous,
        audiences=AUDIENCES,
        notices=NOTICES,
        subscriptions=SUBS,
        at=at,
        payload_cap=256 * 1024,
        kill=kill,
        revisit=revisit,
    )


def as_stored(c: IngestCommit) -> StoredArticle:
    return StoredArticle(c.article, c.version, c.status, list(c.audiences), c.reason)


def test_an_embargoed_article_is_nowhere_and_due_when_it_lifts() -> None:
    c = plan(article(embargoed_until=NOW + 5 * SECOND))
    assert c is not None and c.status == "embargoed" and c.reason is None
    assert c.audiences == [] and c.index_add == {} and c.deliveries == [] and c.payloads == {}
    assert c.dirty == [] and c.section is None  # no render, no ping, not even the section's name
    assert c.life_due == (NOW + 5 * SECOND).timestamp() == c.embargo_end


def test_the_embargo_lifts_on_revisit_with_published_events() -> None:
    before = as_stored(plan(article(embargoed_until=NOW + 5 * SECOND)))  # type: ignore[arg-type]
    assert plan(before.article, before, at=NOW + 4 * SECOND, revisit=True) is None  # a second early
    c = plan(before.article, before, at=NOW + 5 * SECOND, revisit=True)
    assert c is not None and c.status == "published" and sorted(c.audiences) == ["global", "ru"]
    assert {d.type for d in c.deliveries} == {"article.published"} and len(c.deliveries) == 2
    assert c.life_due is None and c.embargo_end is None and c.section == ("world", "World")


def test_an_update_moves_the_embargo() -> None:
    before = as_stored(plan(article(embargoed_until=NOW + 5 * SECOND)))  # type: ignore[arg-type]
    c = plan(article(embargoed_until=NOW + 60 * SECOND), before)
    assert c is not None and c.status == "embargoed" and c.deliveries == []
    assert c.life_due == (NOW + 60 * SECOND).timestamp()


def test_an_update_lifts_the_embargo() -> None:
    before = as_stored(plan(article(embargoed_until=NOW + 5 * SECOND)))  # type: ignore[arg-type]
    c = plan(article(embargoed_until=None), before)
    assert c is not None and c.status == "published"
    assert {d.type for d in c.deliveries} == {"article.published"}


def test_withheld_until_an_update_says_usable() -> None:
    before = as_stored(plan(article(pub_status="withheld")))  # type: ignore[arg-type]
    assert before.status == "embargoed" and before.reason == WITHHELD and before.audiences == []
    c = plan(article(pub_status="usable"), before)
    assert c is not None and c.status == "published" and len(c.deliveries) == 2


def test_withheld_is_counted_as_an_embargo_without_time() -> None:
    c = plan(article(pub_status="withheld"))
    assert c is not None and c.embargo_end == math.inf and c.life_due is None


def test_expiry_withdraws_where_it_was_shown() -> None:
    live = plan(article(expires_at=NOW + 10 * SECOND))
    assert (
        live is not None and live.status == "published" and live.life_due == (NOW + 10 * SECOND).timestamp()
    )
    c = plan(live.article, as_stored(live), at=NOW + 10 * SECOND, revisit=True)
    assert c is not None and c.status == "withdrawn" and c.reason == EXPIRED and c.audiences == []
    assert {"global:all", "global:world", "ru:all", "ru:world"} <= set(c.index_remove)
    assert sorted((d.subscription_id, d.type) for d in c.deliveries) == [
        ("g1", "article.withdrawn"),
        ("r1", "article.withdrawn"),
    ]
    assert set(c.dirty) >= {"global/all", "ru/world"} and c.life_due is None


def test_an_article_expired_on_arrival_is_never_shown() -> None:
    c = plan(article(expires_at=NOW - SECOND))
    assert c is not None and c.status == "withdrawn" and c.reason == EXPIRED
    assert c.deliveries == [] and c.dirty == [] and c.index_add == {}


def test_a_kill_withdraws_and_a_reingest_does_not_bring_it_back() -> None:
    live = as_stored(plan(article()))  # type: ignore[arg-type]
    c = plan(live.article, live, kill="legal takedown", revisit=True)
    assert c is not None and c.status == "withdrawn" and c.reason == "legal takedown"
    assert {d.type for d in c.deliveries} == {"article.withdrawn"} and len(c.deliveries) == 2
    killed = as_stored(c)
    assert plan(article(), killed, kill="legal takedown") is None  # the same item again: unchanged
    changed = plan(article(title="New", content_hash="h2"), killed, kill="legal takedown")
    assert changed is not None and changed.status == "withdrawn" and changed.deliveries == []


def test_undoing_a_kill_publishes_again_without_an_update() -> None:
    live = as_stored(plan(article()))  # type: ignore[arg-type]
    killed = as_stored(plan(live.article, live, kill="wrong name", revisit=True))  # type: ignore[arg-type]
    c = plan(killed.article, killed)  # the kill gone (restore): the identical item comes back
    assert c is not None and c.status == "published" and c.reason is None
    assert {d.type for d in c.deliveries} == {"article.published"}


def test_canceled_by_the_source() -> None:
    live = as_stored(plan(article()))  # type: ignore[arg-type]
    c = plan(article(pub_status="canceled"), live)
    assert c is not None and c.status == "withdrawn" and c.reason == CANCELED
    assert {d.type for d in c.deliveries} == {"article.withdrawn"}


def test_restricted_everywhere_stays_a_reasonless_withdrawal() -> None:
    c = plan(article(restricted_regions=["RU", "FR"]), stored(article(), ["global", "ru"]))
    assert c is not None and c.status == "withdrawn" and c.reason is None
