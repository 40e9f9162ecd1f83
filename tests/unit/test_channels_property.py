"""Issue 4, property-based across every channel: for any audience, region set, date and
restriction, the notice stands exactly once in RSS, Atom, JSON Feed and the webhook body where
its rule holds, nowhere else; and a withheld article reaches no channel of that audience."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from feeds.meta import FeedMeta
from feeds.render import render
from worker.ingest import plan_ingest
from worker.models import Article, Audience, Notice, NoticeText, Subscription
from worker.notices import audience_view, notice_applies

REGIONS = ["RU", "UA-43", "UA-40", "UA-30", "UA", "BY", "FR", "KZ"]
NOTICE = Notice(
    id="rferl-undesirable-ru",
    texts={"en": NoticeText(text="English notice."), "ru": NoticeText(text="Русское уведомление.")},
    regions=["RU", "UA-43", "UA-40", "UA-14", "UA-09", "UA-23", "UA-65"],
    publishers=["rferl"],
    effective_from=date(2024, 2, 20),
    effective_until=date(2030, 1, 1),
)
MARK = 'data-notice="rferl-undesirable-ru"'
RSS_NS = {"content": "http://purl.org/rss/1.0/modules/content/"}
ATOM_NS = {"a": "http://www.w3.org/2005/Atom"}


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[Audience], Article, date]:
    regions = draw(st.lists(st.sampled_from(REGIONS), unique=True, max_size=4))
    split = draw(st.integers(0, len(regions)))
    audiences = [
        Audience(id="global", language="en", default=True),
        Audience(id="a1", language=draw(st.sampled_from(["en", "ru"])), regions=regions[:split]),
        Audience(id="a2", language=draw(st.sampled_from(["en", "ru"])), regions=regions[split:]),
    ]
    audiences = [a for a in audiences if a.default or a.regions]
    day = NOTICE.effective_from + timedelta(days=draw(st.sampled_from([-1, 0, 1, 500, 2143, 2144])))
    article = Article(
        id="rferl-x",
        source=draw(st.sampled_from(["rferl", "other"])),
        title="T",
        language="en",
        body_text="Body.",
        body_html="<p>Body.</p>",
        content_hash="h",
        section="World",
        published_at=datetime(2024, 1, 1, tzinfo=UTC),
        restricted_regions=draw(st.lists(st.sampled_from(REGIONS), unique=True, max_size=2)),
    )
    return audiences, article, day


def _feed_contents(fmt: str, body: bytes) -> list[str]:
    if fmt == "json":
        return [i["content_html"] for i in json.loads(body)["items"]]
    root = etree.fromstring(body)
    if fmt == "rss":
        return [i.findtext("content:encoded", "", RSS_NS) for i in root.findall("./channel/item")]
    return [e.findtext("a:content", "", ATOM_NS) for e in root.findall("a:entry", ATOM_NS)]


@settings(max_examples=120, deadline=None)
@given(worlds())
def test_notice_once_where_it_holds_and_withheld_nowhere(world: tuple[list[Audience], Article, date]) -> None:
    audiences, article, day = world
    subs = {
        a.id: [
            Subscription(
                id=f"s-{a.id}",
                url="https://example.com/h",
                audience=a.id,
                created_at=datetime(2024, 1, 1, tzinfo=UTC),
                secrets=["whsec_AAAA"],
            )
        ]
        for a in audiences
    }
    at = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    commit = plan_ingest(
        article, None, audiences=audiences, notices=[NOTICE], subscriptions=subs, at=at, payload_cap=1 << 20
    )
    assert commit is not None
    for audience in audiences:
        view = audience_view(article, audience, audiences, [NOTICE], day)
        hooks = [d for d in commit.deliveries if d.audience == audience.id]
        if view is None:  # withheld: no feed item and no event for this audience
            assert audience.id not in commit.audiences and hooks == []
            continue
        expected = 1 if notice_applies(NOTICE, article, audience, day) else 0
        meta = FeedMeta(audience=audience.id, section="all", title="t", base_url="http://x", language="en")
        for fmt in ("rss", "atom", "json"):
            contents = _feed_contents(fmt, render(fmt, meta, [view]))  # type: ignore[arg-type]
            assert [c.count(MARK) for c in contents] == [expected], fmt
        (hook,) = hooks
        body = json.loads(commit.payloads[hook.payload_key])["data"]["article"]
        assert body["body_html"].count(MARK) == expected
        assert len(body["notices"]) == expected
        if expected:
            assert body["notices"][0]["language"] == ("ru" if audience.language == "ru" else "en")
