"""RSS, Atom and JSON Feed output: parsed back, validated, stable, golden.

Regenerate the golden files with ``UPDATE_GOLDEN=1 pytest tests/unit/test_feeds_render.py``.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import jsonschema
import pytest
from lxml import etree
from referencing import Registry
from referencing.jsonschema import DRAFT4

from feeds.ext import GEO_NS, MEDIA_NS
from feeds.formats import FeedFormat, UnknownFormatError
from feeds.meta import FeedMeta
from feeds.render import render
from worker.models import Article, AttachedNotice, AudienceArticle

DATA = Path(__file__).parent.parent / "data" / "feeds"
FORMATS: tuple[FeedFormat, ...] = ("rss", "atom", "json")
ATOM_NS = "http://www.w3.org/2005/Atom"
NOTICE_ASIDE = '<aside class="geo-notice" data-notice="rferl-undesirable-ru"'
RFC822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d\d:\d\d:\d\d [+-]\d{4}$"
)

# --- factory -------------------------------------------------------------------------------------

RU_NOTICE = AttachedNotice(
    id="rferl-undesirable-ru",
    language="ru",
    text="Генпрокуратура России признала деятельность RFE/RL «нежелательной».",
    url="https://www.rferl.org/a/undesirable-notice.html",
    placement="start",
)


def make_article(n: int, **overrides: object) -> Article:
    fields: dict[str, object] = {
        "id": f"rferl-{n:04d}",
        "source": "rferl",
        "url": f"https://www.rferl.org/a/story-{n}.html",
        "title": f"Story {n} & <friends>",
        "authors": ["RFE/RL", f"Reporter {n}"],
        "published_at": datetime(2021, 6, n, 12, 0, tzinfo=UTC),
        "language": "en",
        "section": "Afghanistan/Pakistan",
        "tags": ["NATO"],
        "summary": f"Summary of story {n}.",
        "body_text": f"Paragraph one of {n}.\n\nParagraph two.",
        "body_html": f"<p>Paragraph one of {n}.</p><p>Paragraph two.</p>",
        "content_hash": f"hash-{n}",
    }
    fields.update(overrides)
    return Article.model_validate(fields)


def articles() -> list[Article]:
    """Three articles: one updated later, one restricted in RU/UA without url or authors."""
    return [
        make_article(2, updated_at=datetime(2021, 6, 3, 9, 30, tzinfo=UTC), section="World", tags=[]),
        make_article(1, restricted_regions=["RU", "UA", "UA-43"]),
        make_article(3, url=None, authors=[], published_at=datetime(2021, 5, 30, tzinfo=UTC)),
    ]


def items_for(audience: str, source: list[Article] | None = None) -> list[AudienceArticle]:
    notices = [RU_NOTICE] if audience == "ru" else []
    return [AudienceArticle(audience=audience, article=a, notices=notices) for a in source or articles()]


def meta_for(audience: str, **overrides: object) -> FeedMeta:
    fields: dict[str, object] = {
        "audience": audience,
        "section": "all",
        "title": f"RFE/RL syndication — {audience} — all",
        "base_url": "http://127.0.0.1:8000",
        "language": "ru" if audience == "ru" else "en",
        "hubs": ["http://127.0.0.1:8001/hub"],
        "rights": "© RFE/RL",
    }
    fields.update(overrides)
    return FeedMeta.model_validate(fields)


# --- helpers -------------------------------------------------------------------------------------


def json_validator() -> jsonschema.Draft4Validator:
    schemas = [
        json.loads((DATA / name).read_text()) for name in ("jsonfeed.schema.json", "jsonfeed-1.schema.json")
    ]
    registry = Registry().with_resources((s["id"], DRAFT4.create_resource(s)) for s in schemas)
    return jsonschema.Draft4Validator(
        schemas[0], registry=registry, format_checker=jsonschema.FormatChecker()
    )


ATOM_RNG = etree.RelaxNG(etree.parse(str(DATA / "atom.rng")))


def assert_atom_valid(data: bytes) -> None:
    doc = etree.fromstring(data)
    assert ATOM_RNG.validate(doc), ATOM_RNG.error_log


def assert_json_valid(data: bytes) -> None:
    errors = [e.message for e in json_validator().iter_errors(json.loads(data))]
    assert errors == []


CONTENT_PATHS = {
    "rss": "channel/item/{http://purl.org/rss/1.0/modules/content/}encoded",
    "atom": f"{{{ATOM_NS}}}entry/{{{ATOM_NS}}}content",
}
SUMMARY_PATHS = {"rss": "channel/item/description", "atom": f"{{{ATOM_NS}}}entry/{{{ATOM_NS}}}summary"}


def contents(fmt: FeedFormat, data: bytes) -> list[str]:
    """Each item's full HTML content, unescaped (feedparser would drop the data- attributes)."""
    if fmt == "json":
        return [i["content_html"] for i in json.loads(data)["items"]]
    return [n.text or "" for n in etree.fromstring(data).findall(CONTENT_PATHS[fmt])]


def summaries(fmt: FeedFormat, data: bytes) -> list[str]:
    if fmt == "json":
        return [i["summary"] for i in json.loads(data)["items"]]
    return [n.text or "" for n in etree.fromstring(data).findall(SUMMARY_PATHS[fmt])]


def expected_ids(audience: str) -> list[str]:
    return [f"urn:syndicate:article:{audience}:rferl-000{n}" for n in (2, 1, 3)]


# --- tests ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["rss", "atom"])
@pytest.mark.parametrize("audience", ["global", "ru"])
def test_xml_feed_parses_back(fmt: FeedFormat, audience: str) -> None:
    data = render(fmt, meta_for(audience), items_for(audience))
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.title == f"RFE/RL syndication — {audience} — all"
    assert [e.id for e in parsed.entries] == expected_ids(audience)
    assert [e.title for e in parsed.entries] == [
        "Story 2 & <friends>",
        "Story 1 & <friends>",
        "Story 3 & <friends>",
    ]
    first = parsed.entries[0]
    assert first.published_parsed[:6] == (2021, 6, 2, 12, 0, 0)
    assert first.link == "https://www.rferl.org/a/story-2.html"
    assert [a["name"] for a in first.authors] == ["RFE/RL", "Reporter 2"]
    assert [t.term for t in parsed.entries[1].tags] == ["Afghanistan/Pakistan", "NATO"]
    assert parsed.feed.updated_parsed[:6] == (2021, 6, 3, 9, 30, 0)  # newest item date, not the clock
    assert first.updated_parsed[:6] == (2021, 6, 3, 9, 30, 0)  # RSS: atom:updated
    assert parsed.entries[1].updated_parsed[:6] == (2021, 6, 1, 12, 0, 0)
    links = {(link["rel"], link["href"]) for link in parsed.feed.links}
    assert ("self", f"http://127.0.0.1:8000/feeds/{audience}/all.{fmt}") in links
    assert ("hub", "http://127.0.0.1:8001/hub") in links
    assert parsed.feed.link == "http://127.0.0.1:8000/"


@pytest.mark.parametrize("audience", ["global", "ru"])
def test_json_feed(audience: str) -> None:
    data = render("json", meta_for(audience), items_for(audience))
    assert_json_valid(data)
    feed = json.loads(data)
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["feed_url"] == f"http://127.0.0.1:8000/feeds/{audience}/all.json"
    assert feed["hubs"] == [{"type": "WebSub", "url": "http://127.0.0.1:8001/hub"}]
    assert [i["id"] for i in feed["items"]] == expected_ids(audience)
    assert feed["items"][0]["date_published"] == "2021-06-02T12:00:00Z"
    assert feed["items"][0]["date_modified"] == "2021-06-03T09:30:00Z"
    assert feed["items"][0]["authors"] == [{"name": "RFE/RL"}, {"name": "Reporter 2"}]
    assert feed["items"][0]["author"] == {"name": "RFE/RL"}  # JSON Feed 1.0 readers
    assert "author" not in feed["items"][2] and "authors" not in feed["items"][2]
    assert feed["author"]["name"] == feed["authors"][0]["name"]
    notices = [i["_geo"]["notices"] for i in feed["items"]]
    assert notices == ([[RU_NOTICE.model_dump()]] * 3 if audience == "ru" else [[], [], []])
    assert feed["items"][1]["_geo"]["restricted_countries"] == ["ru", "ua"]
    assert list(feed) == sorted(feed)
    assert "«нежелательной»" in data.decode("utf-8") or audience == "global"


@pytest.mark.parametrize("audience", ["global", "ru"])
def test_atom_valid_against_rng(audience: str) -> None:
    assert_atom_valid(render("atom", meta_for(audience), items_for(audience)))


def test_atom_rng_rejects_invalid_document() -> None:
    doc = etree.fromstring(f'<feed xmlns="{ATOM_NS}"><title>t</title></feed>'.encode())
    assert not ATOM_RNG.validate(doc)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("audience", "expected"), [("global", 0), ("ru", 1)])
def test_notice_aside_exactly_once_per_item_content(fmt: FeedFormat, audience: str, expected: int) -> None:
    data = render(fmt, meta_for(audience), items_for(audience))
    assert len(contents(fmt, data)) == len(summaries(fmt, data)) == 3
    for html in contents(fmt, data):
        assert html.count(NOTICE_ASIDE) == expected
        assert html.count("data-notice=") == expected
    for summary in summaries(fmt, data):
        assert "data-notice" not in summary  # plain text: no aside
        assert summary.count(RU_NOTICE.text) == expected  # the notice's own text, once
        assert "<p>" not in summary
        assert "Summary of story" in summary
    raw = data.decode("utf-8")
    assert raw.count("data-notice=") == expected * 3  # nowhere else in the document


@pytest.mark.parametrize("fmt", ["rss", "atom"])
@pytest.mark.parametrize(("audience", "expected"), [("global", 0), ("ru", 3)])
def test_geo_notice_extension_element(fmt: FeedFormat, audience: str, expected: int) -> None:
    root = etree.fromstring(render(fmt, meta_for(audience), items_for(audience)))
    found = root.findall(f".//{{{GEO_NS}}}notice")
    assert len(found) == expected
    for node in found:
        assert node.get("id") == "rferl-undesirable-ru"
        assert node.get("{http://www.w3.org/XML/1998/namespace}lang") == "ru"
        assert node.get("href") == RU_NOTICE.url
        assert node.text == RU_NOTICE.text


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_media_restriction_countries_only(fmt: FeedFormat) -> None:
    root = etree.fromstring(render(fmt, meta_for("global"), items_for("global")))
    found = root.findall(f".//{{{MEDIA_NS}}}restriction")
    assert [(n.get("relationship"), n.get("type"), n.text) for n in found] == [("deny", "country", "ru ua")]
    parent = found[0].getparent()
    item_id = parent.findtext("guid") if fmt == "rss" else parent.findtext(f"{{{ATOM_NS}}}id")
    assert item_id == "urn:syndicate:article:global:rferl-0001"


def test_rss_follows_validator_rules() -> None:
    data = render("rss", meta_for("ru"), items_for("ru"))
    root = etree.fromstring(data)
    channel = root.find("channel")
    assert channel is not None
    self_links = channel.findall(f"{{{ATOM_NS}}}link[@rel='self']")
    assert [(n.get("href"), n.get("type")) for n in self_links] == [
        ("http://127.0.0.1:8000/feeds/ru/all.rss", "application/rss+xml")
    ]
    assert channel.findtext("ttl") == "15"
    assert channel.findtext("language") == "ru"
    assert channel.findtext("copyright") == "© RFE/RL"
    assert channel.findtext("generator") == "syndicate"
    assert RFC822.match(channel.findtext("lastBuildDate") or "")
    assert root.findall(".//author") == []
    for item in channel.findall("item"):
        assert item.find("guid").get("isPermaLink") == "false"
        assert RFC822.match(item.findtext("pubDate") or "")
        assert item.find("{http://purl.org/rss/1.0/modules/content/}encoded") is not None
    assert b"CDATA" not in data
    # <description> is HTML to RSS readers: the plain-text summary is escaped once more.
    assert channel.find("item").findtext("description") == f"{RU_NOTICE.text}\n\nSummary of story 2."
    hostile = render("rss", meta_for("global"), items_for("global", [make_article(1, summary="A & <b>")]))
    description = etree.fromstring(hostile).findtext("channel/item/description")
    assert description == "A &amp; &lt;b&gt;"
    assert feedparser.parse(hostile).entries[0].summary == "A &amp; &lt;b&gt;"


@pytest.mark.parametrize("fmt", FORMATS)
def test_item_ids_differ_per_audience_and_stay_stable(fmt: FeedFormat) -> None:
    """Readers that key items by id across feeds (newsboat) must not merge the two versions."""

    def ids(audience: str, source: list[Article] | None = None, **meta: object) -> list[str]:
        data = render(fmt, meta_for(audience, **meta), items_for(audience, source))
        if fmt == "json":
            return [i["id"] for i in json.loads(data)["items"]]
        return [e.id for e in feedparser.parse(data).entries]

    assert set(ids("global")).isdisjoint(ids("ru"))
    assert len(set(ids("ru"))) == 3
    edited = [a.model_copy(update={"title": "Edited", "content_hash": "x"}) for a in articles()]
    assert ids("ru", edited) == ids("ru")  # an update keeps the id
    assert sorted(ids("ru", archive=True, page=1)) == sorted(ids("ru"))  # so does an archive page


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_items_same_bytes(fmt: FeedFormat) -> None:
    first = render(fmt, meta_for("ru"), items_for("ru"))
    assert render(fmt, meta_for("ru"), items_for("ru")) == first
    assert render(fmt, meta_for("ru"), list(reversed(items_for("ru")))) == first


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_feed_renders_and_validates(fmt: FeedFormat) -> None:
    data = render(fmt, meta_for("global"), [])
    if fmt == "json":
        assert_json_valid(data)
        assert json.loads(data)["items"] == []
        return
    if fmt == "atom":
        assert_atom_valid(data)
    parsed = feedparser.parse(data)
    assert not parsed.bozo
    assert parsed.entries == []
    assert parsed.feed.updated_parsed[:6] == (1970, 1, 1, 0, 0, 0)


HOSTILE = (
    "<p>a]]>b</p></content></content:encoded></item><script>alert('x')</script><p>\"}]} \x0b<![CDATA[x]]></p>"
)


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_html_cannot_break_out(fmt: FeedFormat) -> None:
    source = [make_article(1, body_html=HOSTILE, title="T ]]> </title>\x0c", summary="</summary>]]>")]
    data = render(fmt, meta_for("ru"), items_for("ru", source))
    if fmt == "json":
        assert_json_valid(data)
        parsed_items = json.loads(data)["items"]
        html, title = parsed_items[0]["content_html"], parsed_items[0]["title"]
    else:
        root = etree.fromstring(data)  # still well-formed
        if fmt == "atom":
            assert_atom_valid(data)
        entries = feedparser.parse(data).entries
        assert len(entries) == 1
        [html], title = contents(fmt, data), entries[0].title
        assert len(root.findall(f".//{{{GEO_NS}}}notice")) == 1
    assert "<script" not in html
    assert html.count(NOTICE_ASIDE) == 1
    assert "a]]&gt;b" in html
    assert title == "T ]]> </title>"


def test_rfc5005_archive_links() -> None:
    meta = meta_for(
        "ru",
        archive=True,
        prev_archive_url="http://127.0.0.1:8000/feeds/ru/all/2021-05.atom",
        current_url="http://127.0.0.1:8000/feeds/ru/all.atom",
    )
    fh = "{http://purl.org/syndication/history/1.0}archive"
    for fmt in ("rss", "atom"):
        data = render(fmt, meta, items_for("ru"))
        root = etree.fromstring(data)
        rels = {n.get("rel"): n.get("href") for n in root.iter(f"{{{ATOM_NS}}}link")}
        assert rels["prev-archive"] == meta.prev_archive_url
        assert rels["current"] == meta.current_url
        assert len(list(root.iter(fh))) == 1
        if fmt == "atom":
            assert_atom_valid(data)
    assert b"fh:archive" not in render("atom", meta_for("ru"), items_for("ru"))


def test_unknown_format_is_refused() -> None:
    with pytest.raises(UnknownFormatError, match="'xml'"):
        render("xml", meta_for("ru"), [])  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", FORMATS)
def test_golden(fmt: FeedFormat) -> None:
    path = DATA / f"golden.{fmt}"
    data = render(fmt, meta_for("ru"), items_for("ru"))
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_bytes(data)
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1 to write it"
    assert data == path.read_bytes(), f"{path.name} differs: check the change, then UPDATE_GOLDEN=1"
