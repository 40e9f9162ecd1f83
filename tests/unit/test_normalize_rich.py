"""Issue 16: a rich CMS article and a rich HTML news page keep their structure, safely.

Golden files ``tests/data/normalize/rich-*.expected.json`` hold the exact article (regenerate with
``UPDATE_GOLDEN=1`` and review the diff); the other tests state each rule on its own.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from worker.allowlist import ATTRIBUTES, TAGS
from worker.models import Article, LeadImage, Notice, RawInput
from worker.normalize import normalize
from worker.normalize.errors import NormalizeError

DATA = Path(__file__).resolve().parents[1] / "data" / "normalize"
NOTICES = [Notice.model_validate(n) for n in json.loads((DATA / "notices.json").read_text("utf-8"))]
CASES = {"page": ("rich-page.html", "html"), "cms": ("rich-cms.json", "json")}
LEAKS = [
    "SCRIPT-LEAK",
    "STYLE-LEAK",
    "FOOTER-LEAK",
    "RELATED-LEAK",
    "TRENDING-LEAK",
    "FORM-LEAK",
    "Share on",
    "undesirable",
    "javascript",
    "vbscript",
    "data:",
    "onclick",
    "onerror",
    "onload",
    "style=",
    "utm_",
    "fbclid",
    "gclid",
    "<script",
    "<iframe",
    "<object",
    "<form",
    "<input",
    "<h1",
    "<aside",
    "<div",
]
TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)((?:\s[^>]*)?)>")
ATTR = re.compile(r'\s([a-zA-Z-]+)="([^"]*)"')


def load(name: str) -> Article:
    path, fmt = CASES[name]
    return normalize(RawInput(format=fmt, body=(DATA / path).read_text("utf-8")), NOTICES)  # type: ignore[arg-type]


@pytest.fixture(scope="module", params=list(CASES))
def case(request: pytest.FixtureRequest) -> tuple[str, Article]:
    return request.param, load(request.param)


def test_golden(case: tuple[str, Article]) -> None:
    name, article = case
    path = DATA / f"rich-{name}.expected.json"
    data = json.dumps(article.to_public(), ensure_ascii=False, indent=2) + "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(data, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1 to write it"
    assert data == path.read_text("utf-8"), f"{path.name} differs: check the change, then UPDATE_GOLDEN=1"


def test_only_allowed_markup_and_absolute_urls(case: tuple[str, Article]) -> None:
    _, article = case
    for tag, attrs in TAG.findall(article.body_html):
        assert tag in TAGS, tag
        for name, value in ATTR.findall(attrs):
            assert name in ATTRIBUTES.get(tag, set()), (tag, name)
            if name == "href":
                assert re.match(r"^(https?://[^/\s]|mailto:)", value), value
            if name in {"src", "cite"}:
                assert re.match(r"^https?://[^/\s]", value), value


@pytest.mark.parametrize("leak", LEAKS)
def test_hostile_and_chrome_gone(case: tuple[str, Article], leak: str) -> None:
    _, article = case
    for field in (article.body_html, article.body_text, article.summary, article.title):
        assert leak not in field


def test_notice_found_removed_and_listed(case: tuple[str, Article]) -> None:
    _, article = case
    assert article.detected_notices == ["rferl-undesirable-ru"]
    assert "Russian passport" not in article.body_text


def test_body_text_is_plain_one_paragraph_per_block(case: tuple[str, Article]) -> None:
    _, article = case
    assert "<" not in article.body_text
    paragraphs = article.body_text.split("\n\n")
    assert all(p == p.strip() and p and "\n" not in p for p in paragraphs)


def test_page_structure() -> None:
    article = load("page")
    html = article.body_html
    # a relative link resolved against <base href="https://www.rferl.org/a/">, tracking gone, fragment kept
    assert (
        '<a href="https://www.rferl.org/a/amu-darya-river/31000001.html?id=4#map">Amu Darya river</a>' in html
    )
    assert '<a href="https://www.example.org/report.pdf?page=2">ministry report</a>' in html
    assert "<h2>Villages Under Water</h2>" in html and "<h3>What Happens Next</h3>" in html
    assert "<ul><li>Angor district, where <strong>12 villages</strong> were cut off</li>" in html
    assert "<ol><li>Register at the nearest evacuation point</li>" in html
    assert "<blockquote><p>“The water came in the middle of the night." in html
    assert (
        '<figure><img src="https://www.rferl.org/img/termez-flood.jpg" alt="Rescuers in a boat near Termez"'
        ' width="800" height="450"><figcaption>Rescuers move residents by boat near Termez on May 1.'
        "</figcaption></figure>"
    ) in html
    assert '<p><a href="https://www.youtube.com/embed/abc123XYZ">Floods on the Amu Darya</a></p>' in html
    assert '<a href="mailto:help@example.org">help@example.org</a>' in html
    assert "pixel.gif" not in html and "<img" not in html.replace(
        '<img src="https://www.rferl.org/img/termez', ""
    )
    paragraphs = article.body_text.split("\n\n")
    assert "Angor district, where 12 villages were cut off" in paragraphs
    assert "Rescuers move residents by boat near Termez on May 1." in paragraphs
    assert "Register at the nearest evacuation point" in paragraphs


def test_page_lead_image_from_open_graph() -> None:
    assert load("page").image == LeadImage(
        url="https://www.rferl.org/img/amu-darya-lead.jpg", alt="A flooded road near Termez",
        width=1200, height=675, type="image/jpeg",
    )  # fmt: skip


def test_cms_structure_and_image() -> None:
    article = load("cms")
    html = article.body_html
    assert html.startswith('<p>Negotiators from <a href="https://www.rferl.org/z/armenia?topic=talks">')
    assert "Ceasefire Talks Resume" not in html  # the headline repeated as <h1> in the body
    assert "<h2>What Is On The Table</h2>" in html and "<h4>Background</h4>" in html  # h5 -> h4
    assert '<blockquote cite="https://mfa.example.org/statement">' in html
    assert '<img src="https://www.rferl.org/a/img/baku-talks.jpg"' in html
    assert '<p><a href="https://www.youtube.com/embed/XyZ987">Opening statements in Baku</a></p>' in html
    assert "flash.swf" not in html  # an <object> that is neither a video nor a social post goes
    assert "over Nagorno-Karabakh.</p>" in html  # a javascript: link keeps its words, not its link
    assert "<table><tbody><tr><th>Year</th>" in html
    assert article.image == LeadImage(
        url="https://www.rferl.org/img/baku-lead.png", alt="The two foreign ministers",
        caption="The ministers shake hands in Baku.", credit="AFP", width=1600, height=900, type="image/png",
    )  # fmt: skip


def _cms(**fields: object) -> Article:
    doc = {
        "title": "T",
        "url": "https://www.rferl.org/a/1.html",
        "body_html": "<p>Body words here.</p>",
        **fields,
    }
    return normalize(RawInput(format="json", body=json.dumps(doc)))


def test_cms_image_forms_and_hash() -> None:
    assert _cms().image is None
    assert _cms(image="https://x.example/a.jpg").image == LeadImage(
        url="https://x.example/a.jpg", type="image/jpeg"
    )
    first = _cms(
        body_html='<figure><img src="/f.webp" alt="F"><figcaption>Cap</figcaption></figure><p>Body.</p>'
    )
    assert first.image == LeadImage(
        url="https://www.rferl.org/f.webp", alt="F", caption="Cap", type="image/webp"
    )
    one, two = _cms(image="https://x.example/a.jpg"), _cms(image="https://x.example/b.jpg")
    assert one.content_hash != two.content_hash != _cms().content_hash
    relinked = _cms(body_html='<p>Body <a href="https://a.example/">words</a> here.</p>')
    assert relinked.body_text == _cms().body_text and relinked.content_hash != _cms().content_hash


@pytest.mark.parametrize("bad", ["javascript:alert(1)", {"alt": "no url"}, 7, "data:image/png;base64,AAAA"])
def test_cms_bad_image_is_a_clear_error(bad: object) -> None:
    with pytest.raises(
        NormalizeError, match=r"^json: field 'image' has .* \(expected an (http\(s\) )?image URL"
    ):
        _cms(image=bad, url=None)


def _page(body: str) -> Article:
    filler = "".join(
        f"<p>Paragraph {n} of the article says what officials did and why it matters to readers today.</p>"
        for n in range(6)
    )
    page = f"<html><body><article><h1>Head</h1>{filler}{body}{filler.replace('Paragraph', 'Part')}</article>"
    page += '<aside class="sidebar"><h3>More</h3><figure><img src="https://x.example/teaser.jpg">'
    page += (
        "<figcaption>TEASER-CAPTION</figcaption></figure><p>Another story teaser</p></aside></body></html>"
    )
    return normalize(RawInput(format="html", body=page, url="https://x.example/a"))


def test_page_figures_come_back_next_to_their_text_and_only_in_the_article() -> None:
    article = _page(
        "<p>The minister spoke to reporters after the meeting ended late on Tuesday evening.</p>"
        '<figure><img src="/photo.jpg" alt="Minister">'
        "<figcaption>The minister on Tuesday.</figcaption></figure>"
        '<img src="https://x.example/inline.png" width="640" height="360">'
        '<img src="https://x.example/icon.png" width="16" height="16">'
    )
    html = article.body_html
    figure = (
        '<figure><img src="https://x.example/photo.jpg" alt="Minister"><figcaption>The minister on Tuesday.'
    )
    assert f"late on Tuesday evening.</p>\n{figure}" in html
    assert '<figure><img src="https://x.example/inline.png" width="640" height="360"></figure>' in html
    assert "icon.png" not in html and "teaser.jpg" not in html and "TEASER-CAPTION" not in article.body_text
    assert "The minister on Tuesday." in article.body_text.split("\n\n")


def test_trafilatura_markup_gets_back_the_space_after_a_link() -> None:
    from lxml import etree

    from worker.normalize.structure import from_trafilatura

    # trafilatura's XML for a CNN-style <div> paragraph: the space after the link is trimmed away
    body = etree.fromstring('<body><p>after <ref target="https://c.example/x">CNBC reported</ref>that the'
                            ' <hi rend="#b">mood</hi>, and<hi rend="#i">so</hi> on</p></body>')  # fmt: skip
    html = etree.tostring(from_trafilatura(body), encoding="unicode")
    assert html == (
        '<div><p>after <a href="https://c.example/x">CNBC reported</a> that the <strong>mood</strong>,'
        " and <em>so</em> on</p></div>"
    )
