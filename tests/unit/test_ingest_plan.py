"""plan_ingest: what a new article version changes, decided without Redis."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from worker.ingest import plan_ingest
from worker.models import Article, Audience, Notice, NoticeText, StoredArticle, Subscription

AT = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
AUDIENCES = [
    Audience(id="global", language="en", default=True),
    Audience(id="ru", language="ru", regions=["RU", "UA-43"]),
]
NOTICES = [
    Notice(
        id="rferl-undesirable-ru",
        texts={"en": NoticeText(text="Notice."), "ru": NoticeText(text="Уведомление.")},
        regions=["RU", "UA-43"],
        publishers=["rferl"],
        effective_from=date(2024, 2, 20),
    ),
]


def article(**changes: object) -> Article:
    base = dict(
        id="rferl-1",
        source="rferl",
        title="Title",
        language="en",
        section="World",
        body_text="Body.",
        body_html="<p>Body.</p>",
        content_hash="h1",
        published_at=datetime(2026, 11, 1, tzinfo=UTC),
    )
    base.update(changes)
    return Article.model_validate(base)


def sub(sid: str, audience: str, **extra: object) -> Subscription:
    return Subscription(
        id=sid,
        url="https://example.com/h",
        audience=audience,
        created_at=AT,
        secrets=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
        **extra,
    )  # type: ignore[arg-type]


SUBS = {"global": [sub("g1", "global")], "ru": [sub("r1", "ru")]}


def plan(a: Article, previous: StoredArticle | None = None, subs: dict[str, list[Subscription]] = SUBS):
    return plan_ingest(
        a, previous, audiences=AUDIENCES, notices=NOTICES, subscriptions=subs, at=AT, payload_cap=256 * 1024
    )


def stored(a: Article, audiences: list[str], version: int = 1) -> StoredArticle:
    return StoredArticle(article=a, version=version, status="published", audiences=audiences)


def test_new_article_is_published_everywhere_with_one_delivery_per_subscription() -> None:
    c = plan(article())
    assert c is not None and c.version == 1 and c.status == "published"
    assert sorted(c.audiences) == ["global", "ru"]
    assert set(c.index_add) == {"global:all", "global:world", "ru:all", "ru:world"}
    assert sorted((d.subscription_id, d.type) for d in c.deliveries) == [
        ("g1", "article.published"),
        ("r1", "article.published"),
    ]
    assert len({d.webhook_id for d in c.deliveries}) == 2


def test_unchanged_reingest_does_nothing() -> None:
    a = article()
    assert plan(a, stored(a, ["global", "ru"])) is None


def test_changed_article_is_a_new_version_and_an_update() -> None:
    c = plan(article(title="New title", content_hash="h2"), stored(article(), ["global", "ru"]))
    assert c is not None and c.version == 2
    assert {d.type for d in c.deliveries} == {"article.updated"}


def test_restriction_withdraws_from_the_restricted_audience_only() -> None:
    c = plan(article(restricted_regions=["RU"]), stored(article(), ["global", "ru"]))
    assert c is not None
    assert c.audiences == ["global"]
    assert {"ru:all", "ru:world"} <= set(c.index_remove)
    by_sub = {d.subscription_id: d.type for d in c.deliveries}
    assert by_sub == {"g1": "article.updated", "r1": "article.withdrawn"}


def test_restricted_everywhere_is_withdrawn_status() -> None:
    c = plan(article(restricted_regions=["RU", "FR"]), stored(article(), ["global", "ru"]))
    assert c is not None and c.status == "withdrawn" and c.audiences == []


def test_section_change_leaves_the_old_section_feed() -> None:
    c = plan(article(section="Europe", content_hash="h3"), stored(article(), ["global", "ru"]))
    assert c is not None
    assert "global:world" in c.index_remove and "global:europe" in c.index_add
    assert "global/world" in c.dirty and "global/europe" in c.dirty


@pytest.mark.parametrize(
    ("subscription", "expected"),
    [
        (sub("s", "global", sections=["World"]), 1),
        (sub("s", "global", sections=["europe"]), 0),
        (sub("s", "global", events=["article.updated"]), 0),
        (sub("s", "global", enabled=False), 0),
    ],
    ids=["section-match", "other-section", "event-filter", "disabled"],
)
def test_subscription_filters(subscription: Subscription, expected: int) -> None:
    c = plan(article(), subs={"global": [subscription]})
    assert c is not None and len(c.deliveries) == expected


def test_the_ru_payload_carries_the_notice_once() -> None:
    c = plan(article())
    assert c is not None
    ru = next(d for d in c.deliveries if d.audience == "ru")
    body = json.loads(c.payloads[ru.payload_key])["data"]["article"]
    assert body["body_html"].count('data-notice="rferl-undesirable-ru"') == 1
    assert [n["id"] for n in body["notices"]] == ["rferl-undesirable-ru"]
    g = next(d for d in c.deliveries if d.audience == "global")
    assert "data-notice" not in json.loads(c.payloads[g.payload_key])["data"]["article"]["body_html"]


def test_ids_are_deterministic_so_a_repeated_plan_writes_the_same_deliveries() -> None:
    a, b = plan(article()), plan(article())
    assert a is not None and b is not None
    assert [d.id for d in a.deliveries] == [d.id for d in b.deliveries]


# -- revisits: the stored article under a configuration that may have changed ---------------------


def revisit(a: Article, previous: StoredArticle, audiences: list[Audience] = AUDIENCES):
    return plan_ingest(
        a,
        previous,
        audiences=audiences,
        notices=NOTICES,
        subscriptions=SUBS,
        at=AT,
        payload_cap=256 * 1024,
        revisit=True,
    )


def _as_stored(a: Article, audiences: list[Audience] = AUDIENCES, version: int = 1) -> StoredArticle:
    first = plan_ingest(
        a, None, audiences=audiences, notices=NOTICES, subscriptions=SUBS, at=AT, payload_cap=256 * 1024
    )
    assert first is not None
    return stored(a, first.audiences, version)


def test_revisit_with_nothing_changed_does_nothing() -> None:
    a = article(restricted_regions=["UA-65"])
    assert revisit(a, _as_stored(a)) is None


def test_revisit_follows_a_region_that_moved_to_another_audience() -> None:
    """UA-65 (unclaimed: the default audience's) now belongs to ru: an article restricted there
    is withdrawn from ru and, no longer restricted anywhere global covers, published there."""
    a = article(restricted_regions=["UA-65"])
    before = _as_stored(a, version=3)
    assert before.audiences == ["ru"]
    wider = [AUDIENCES[0], Audience(id="ru", language="ru", regions=["RU", "UA-43", "UA-65"])]
    c = revisit(a, before, wider)
    assert c is not None and c.version == 4 and c.audiences == ["global"]
    assert {"ru:all", "ru:world"} <= set(c.index_remove) and {"global:all", "global:world"} <= set(
        c.index_add
    )
    assert sorted((d.subscription_id, d.type) for d in c.deliveries) == [
        ("g1", "article.published"),
        ("r1", "article.withdrawn"),
    ]


def test_revisit_publishes_to_a_new_audience() -> None:
    a = article()
    more = [*AUDIENCES, Audience(id="kz", language="ru", regions=["KZ"])]
    c = revisit(a, _as_stored(a), more)
    assert c is not None and sorted(c.audiences) == ["global", "kz", "ru"]
    assert {"kz:all", "kz:world"} <= set(c.index_add)
    assert c.deliveries == []  # nobody subscribes to kz yet; global and ru get no "updated"
