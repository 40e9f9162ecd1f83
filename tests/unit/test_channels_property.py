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


# --- issue 16: no generated HTML lets a script, a handler or a non-http(s) URL through ----------

URLS = [
    "javascript:alert(1)",
    " JaVaScRiPt:alert(1)",
    "java\tscript:x",
    "&#106;avascript:x",
    "vbscript:x",
    "data:text/html,<script>x</script>",
    "data:image/png;base64,AA",
    "file:///etc/passwd",
    "//cdn.example/x.jpg",
    "/rel/x.jpg",
    "rel.html?utm_source=x",
    "https://ok.example/a?fbclid=1",
    "http://ok.example/b.png",
    "mailto:x@example.org",
    "ftp://ftp.example/x",
    "https:/\\evil",
    "  ",
    "#frag",
]
ATTRS = [
    "href",
    "src",
    "cite",
    "onclick",
    "onerror",
    "style",
    "srcset",
    "data-src",
    "formaction",
    "xlink:href",
]
TAGS = [
    "p",
    "a",
    "img",
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "svg",
    "math",
    "form",
    "input",
    "button",
    "h1",
    "h5",
    "div",
    "span",
    "aside",
    "figure",
    "figcaption",
    "blockquote",
    "q",
    "ul",
    "li",
    "table",
    "td",
    "video",
    "source",
    "base",
    "meta",
    "link",
    "template",
    "noscript",
    "b",
    "em",
]
WORDS = st.sampled_from(
    ["news", "said", "<", "&amp;", "&lt;script&gt;", "]]>", "\u202e", "officials", '"', "x"]
)


@st.composite
def hostile_html(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        if depth < 3 and draw(st.booleans()):
            tag = draw(st.sampled_from(TAGS))
            attrs = "".join(
                f' {name}="{draw(st.sampled_from(URLS))}"'
                for name in draw(st.lists(st.sampled_from(ATTRS), unique=True, max_size=3))
            )
            parts.append(f"<{tag}{attrs}>{draw(hostile_html(depth + 1))}</{tag}>")
        else:
            parts.append(" ".join(draw(st.lists(WORDS, min_size=1, max_size=4))))
    return "".join(parts)


SAFE_HREF = ("http://", "https://", "mailto:")
SAFE_SRC = ("http://", "https://")
BANNED = {
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "form",
    "input",
    "button",
    "svg",
    "math",
    "base",
    "meta",
}


def _assert_safe(markup: str, where: str) -> None:
    import lxml.html

    root = lxml.html.fragment_fromstring(markup or "<p></p>", create_parent="div")
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        assert element.tag not in BANNED, (where, element.tag, markup)
        for name, value in element.attrib.items():
            assert not name.startswith("on") and name not in {"style", "srcset", "formaction"}, (where, name)
            if name == "href":
                assert value.lower().startswith(SAFE_HREF), (where, value)
            if name in {"src", "cite"}:
                assert value.lower().startswith(SAFE_SRC), (where, value)


def _channel_html(view: object, audience: Audience) -> list[tuple[str, str]]:
    from worker.events import event_body

    meta = FeedMeta(audience=audience.id, section="all", title="t", base_url="http://x", language="en")
    out = []
    for fmt in ("rss", "atom", "json"):
        out += [(fmt, c) for c in _feed_contents(fmt, render(fmt, meta, [view]))]  # type: ignore[arg-type, list-item]
    body = event_body("article.published", view, datetime(2025, 1, 1, tzinfo=UTC), payload_cap=1 << 20)  # type: ignore[arg-type]
    out.append(("webhook", json.loads(body)["data"]["article"]["body_html"]))
    return out


@settings(max_examples=60, deadline=None)
@given(hostile_html(), st.sampled_from(["json", "html"]), st.sampled_from(URLS))
def test_no_script_handler_or_unsafe_url_reaches_any_channel(markup: str, fmt: str, image: str) -> None:
    from worker.models import RawInput
    from worker.normalize import normalize
    from worker.normalize.errors import NormalizeError

    filler = "<p>Officials said the river rose two meters overnight and villages were evacuated.</p>"
    if fmt == "json":
        doc = {"title": "T", "url": "https://www.rferl.org/a/1.html", "body_html": markup + filler}
        raw = RawInput(
            format="json", body=json.dumps({**doc, "image": {"url": "https://www.rferl.org/i.jpg"}})
        )
    else:
        page = f'<html><head><meta property="og:image" content="{image}"></head><body><article><h1>T</h1>'
        raw = RawInput(format="html", body=page + filler + markup + filler + "</article></body></html>",
                       url="https://www.rferl.org/a/1.html")  # fmt: skip
    try:
        article = normalize(raw, [NOTICE])
    except NormalizeError:
        return  # refused with a clear error: nothing reaches a channel
    _assert_safe(article.body_html, "body_html")
    if article.image is not None:
        assert article.image.url.startswith(SAFE_SRC)
    ru = Audience(id="ru", language="ru", regions=["RU"])
    audiences = [Audience(id="global", language="en", default=True), ru]
    for audience in audiences:
        view = audience_view(article.model_copy(update={"source": "rferl"}), audience, audiences, [NOTICE],
                             date(2025, 1, 1))  # fmt: skip
        assert view is not None
        for where, html in _channel_html(view, audience):
            _assert_safe(html, where)
            assert html.count(MARK) == (1 if audience.id == "ru" else 0), where
