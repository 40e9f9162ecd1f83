"""A varied corpus of raw articles, and what ``normalize`` made of each (the snapshot test's data).

The named cases (the data files of tests/data, the shared fixtures, bench articles, hostile
markup) are kept whole in tests/data/normalize/snapshot.json; the generated ones (a seeded mix of
blocks: notices, trailers, links, images, non-ASCII, white space, entities) by the sha256 of the
outcome. Regenerate only when an output change is intended:
``python -m tests.normalize_corpus`` rewrites the file from the code as it is.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from tests.bench.scenarios import cms_article
from worker.models import Notice, RawInput
from worker.normalize import NormalizeError, normalize

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
SNAPSHOT = DATA / "normalize" / "snapshot.json"
GENERATED = 300
_NOTICES = json.loads((DATA / "normalize" / "notices.json").read_text(encoding="utf-8"))
_EN = _NOTICES[0]["texts"]["en"]["text"]
_RU = _NOTICES[0]["texts"]["ru"]["text"]
_OTHER = _NOTICES[1]["texts"]["en"]["text"]


@cache
def notices() -> tuple[Notice, ...]:
    return tuple(Notice.model_validate(item) for item in _NOTICES)


def _files() -> Iterator[tuple[str, RawInput]]:
    for path in sorted((DATA / "normalize").iterdir()):
        if path.name in ("notices.json", "snapshot.json") or path.name.endswith(".expected.json"):
            continue
        fmt = {".txt": "text", ".html": "html", ".json": "json"}[path.suffix]
        yield f"file:{path.name}", RawInput(format=fmt, body=path.read_bytes().decode("utf-8"))  # type: ignore[arg-type]
    for path in sorted((DATA / "ninjs").glob("*.json")):
        yield f"ninjs:{path.name}", RawInput(format="ninjs", body=path.read_text("utf-8"))
    for path in sorted(DATA.glob("*.txt")):
        yield f"text:{path.name}", RawInput(format="text", body=path.read_bytes().decode("utf-8"))


def _cms(name: str, body_html: str, **fields: Any) -> tuple[str, RawInput]:
    doc = {"guid": f"corpus-{name}", "source": "corpus", "url": "https://news.example.org/a/b/c.html?x=1",
           "title": f"Corpus case {name}", "published_at": "2024-05-06T07:08:09Z", "body_html": body_html,
           **fields}  # fmt: skip
    return f"cms:{name}", RawInput(format="json", body=json.dumps(doc))


def _hostile() -> Iterator[tuple[str, RawInput]]:
    yield _cms("notice-en", f"<p>News first.</p><h3>Important notice</h3><p>{_EN}</p>"
               "<p>To find out more, click here.</p><p>News after.</p>")  # fmt: skip
    yield _cms("notice-ru", f"<p>Новости.</p><p>{_RU}</p><p>Подробнее здесь</p><p>Ещё новости.</p>")
    yield _cms("notice-split", "".join(f"<p>{s}.</p>" for s in _EN.split(". ")) + "<p>Tail news.</p>")
    yield _cms("notice-quoted", f"<p>The ministry called RFE/RL an “undesirable organization” again.</p>"
               f"<p>{_EN[:80]}</p><p>{_OTHER}</p>")  # fmt: skip
    yield _cms("notice-in-list", f"<ul><li>{_EN}</li><li>Item two.</li></ul><blockquote><p>{_OTHER}</p>"
               "</blockquote><p>Body stays.</p>")  # fmt: skip
    yield _cms(
        "scripts",
        '<p><a href="javascript:alert(1)">Click me</a></p><p>A <a href="javascript:x()">'
        "word</a> in a sentence.</p><script>alert(1)</script><p onclick='x()'>Text</p>"
        '<iframe src="https://www.youtube.com/embed/abc" title="A  video"></iframe>'
        '<iframe src="https://ads.example/x"></iframe><object data="//vimeo.com/1"></object>',
    )
    yield _cms(
        "links",
        '<p><a href="/rel?utm_source=x&amp;a=1">rel</a> <a href="../up#frag">up</a> '
        '<a href="//cdn.example.org/p">proto</a> <a href="mailto:a@b.example">mail</a> '
        '<a href="HTTP://User@Example.ORG:80/P?fbclid=1">caps</a> <a href="http://[bad">bad</a> '
        '<a href=" https://x.example/ a\nb ">spaced</a> <a>no href</a> <a href="ftp://x/">ftp</a></p>'
        '<blockquote cite="/c?gclid=2"><p>Cited.</p></blockquote><q cite="data:x">q</q>',
    )
    yield _cms(
        "images",
        '<p>Lead.</p><img src="data:image/png;base64,xx" data-src="/lazy.jpg" width="300">'
        '<img src="/pixel.gif" width="1" height="1"><img srcset="/a.webp 1x, /b.webp 2x">'
        '<figure><picture><img src="/f.png" alt="F" width="640px"></picture>'
        "<figcaption>  Cap  <b>tion</b> </figcaption></figure><p>More.</p>",
    )
    yield _cms(
        "containers",
        "<div><section><p>In section.</p><div>Inline <span>div</span></div></section>"
        "<aside>Aside <font>text</font></aside></div><p><div>p in div in p</div></p>"
        "<h1>Big</h1><h5>small</h5><h6>smaller</h6><strike>old</strike><del>d</del><ins>i</ins>"
        "<tt>tt</tt><dl><dt>term</dt><dd>def</dd></dl>loose text<br>after break<hr>tail",
    )
    yield _cms("verbatim", "<pre>  keep\n   spaces\u200b &amp; \x01marks </pre>"
               "<p>x <code>  a   b </code> y</p><!-- comment --><p>after<?pi x?> pi</p>")  # fmt: skip
    yield _cms(
        "unicode",
        "<p>Ca\u0301fe\u0301 naïve\u00a0 spaces\u2003here\u200b\u200d zero\u00ad-width</p>"
        "<p>mojibake: Ã©tÃ© â€™quotedâ€™</p><p>>\u0338overlay</p><p>\u202eRTL\u202c ok</p>"
        "<p>Персидский: می\u200cخواهم</p><p>日本語の段落です。</p>",
    )
    yield _cms(
        "repeats",
        "<h2>Corpus case repeats</h2><p>Same.</p><p>Same.</p><p>SAME.</p><p>Other.</p>"
        "<p>Same.</p><p></p><p> </p><ul><li></li></ul><table><tr><td></td></tr></table>",
    )
    yield _cms(
        "table",
        "<table><caption>Cap</caption><thead><tr><th scope='col' colspan='2'>H</th></tr>"
        "</thead><tbody><tr><td rowspan='999999'>a</td><td style='x'>b</td></tr></tbody></table>",
    )
    yield _cms("entities", "<p>&amp;amp; &lt;b&gt; &quot;q&quot; &#8212; &nbsp;&nbsp; &copy; &bogus;</p>",
               title="T &amp; &quot;Q&quot;", summary="<p>Sum &amp; mary</p>", tags="a, b ,a")  # fmt: skip
    yield _cms(
        "weird-tags",
        "<p>news<p>x</p><foo-bar>custom</foo-bar><svg><text>no</text></svg>"
        "<math>m</math><form><input value='x'>form text</form><nav>nav</nav><p>end</p>",
    )
    yield _cms("text-body", "", body_text="Para one.\n\nPara two &amp; more.\n\n\nPara three.")
    yield _cms("html-in-content", "", content="<p>From content.</p><p>Second.</p>")
    yield _cms("no-url", "<p><a href='/rel'>rel</a> body</p><img src='/i.jpg'>", url=None)
    yield _cms("no-url-image", "<p>Body.</p>", url=None, image="/lead.jpg")
    yield _cms("base-caller", "<p><a href='rel'>rel</a></p>", url="not a url")
    yield "html:base", RawInput(format="html", url="https://site.example/x/y.html", body=(
        "<html><head><base href='/base/'><title>Page title here</title>"
        "<meta property='og:image' content='/og.jpg'></head><body><nav>Menu</nav><article>"
        "<h1>Page title here</h1><p>First paragraph of the page, long enough to count as text.</p>"
        "<p>Second <a href='rel.html?utm_campaign=x'>link</a> paragraph with more words in it.</p>"
        f"<p>{_EN}</p><figure><img src='fig.jpg'><figcaption>Fig</figcaption></figure>"
        "<p>Third paragraph closes the article body.</p></article></body></html>"))  # fmt: skip
    yield "text:notice", RawInput(format="text", body=f"Headline here\n- By Someone\n{_EN}\nBody line.\n")
    for i in (0, 1, 7, 123, 599):
        yield f"bench:{i}", RawInput(format="json", body=json.dumps(cms_article(i)))


# Blocks for the generated cases: tags around text, some of it notices or parts of them.
_TEXTS = [
    "Officials said the talks would resume next week.",
    "Observers described the atmosphere as tense but constructive.",
    _EN, _RU, _OTHER, _EN[:120], _EN[60:], _RU[:150], "To find out more, click here.", "Подробнее",
    "Important notice", "Важное уведомление", "Café naïve déjà vu — “quotes” ‘single’",
    "mojibake Ã©tÃ© â€™", "tabs\tand\nnew\r\nlines   and\u00a0nbsp", "zero\u200bwidth\u00adsoft\ufeffbom",
    "&amp; &lt;tag&gt; &quot;", "Ελληνικά κείμενα", "中文段落", "ASCII only, plain and simple",
    "Same", "same", "",
]  # fmt: skip
_WRAPS = [
    "<p>{}</p>", "<h2>{}</h2>", "<h4>{}</h4>", "<li>{}</li>", "<ul><li>{}</li></ul>",
    "<blockquote>{}</blockquote>",
    "<div>{}</div>", "<span>{}</span>", "{}", "<pre>{}</pre>", "<p><em>{}</em> <strong>x</strong></p>",
    "<p>{} <a href='/r/{n}?utm_source=a&amp;k={n}'>link {n}</a></p>",
    "<p><a href='https://o.example/{n}'>{}</a></p>",
    "<figure><img src='/img/{n}.jpg' alt='a{n}'><figcaption>{}</figcaption></figure>", "<td>{}</td>",
    "<p>{}<br>{}</p>", "<section><p>{}</p><p>{}</p></section>", "<p>{}<script>x</script></p>",
]  # fmt: skip


def _generated() -> Iterator[tuple[str, RawInput]]:
    rng = random.Random(20261202)
    for n in range(GENERATED):
        blocks = []
        for _ in range(rng.randint(1, 12)):
            wrap = rng.choice(_WRAPS)
            blocks.append(wrap.replace("{n}", str(rng.randint(0, 9))).format(*(
                rng.choice(_TEXTS) for _ in range(wrap.count("{}")))))  # fmt: skip
        markup = rng.choice(["", "\n", " "]).join(blocks)
        shape = n % 5
        if shape == 3:
            page = f"<html><body><article><h1>Page {n}</h1>{markup}</article></body></html>"
            yield f"gen:{n}", RawInput(format="html", body=page, url=f"https://p.example/{n}/")
        elif shape == 4:
            lines = [rng.choice(_TEXTS) for _ in range(rng.randint(1, 8))]
            yield f"gen:{n}", RawInput(format="text", body="\n".join([f"Text {n}", "- By Desk", *lines]))
        else:
            url = rng.choice([f"https://g.example/{n}/a.html", None, "https://g.example"])
            yield _cms(f"gen{n}", markup, url=url, title=rng.choice([f"Gen {n}", rng.choice(_TEXTS) or "t"]))


def named() -> list[tuple[str, RawInput]]:
    return [*_files(), *_hostile()]


def generated() -> list[tuple[str, RawInput]]:
    return list(_generated())


def outcome(raw: RawInput, with_notices: bool = True) -> dict[str, Any]:
    """What ``normalize`` makes of ``raw``: the article as JSON data, or the error's text."""
    try:
        return normalize(raw, notices() if with_notices else ()).model_dump(mode="json")
    except NormalizeError as exc:
        return {"error": str(exc)}


def digest(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def snapshot() -> dict[str, Any]:
    return {
        "named": {name: outcome(raw) for name, raw in named()},
        "without_notices": {name: digest(outcome(raw, False)) for name, raw in named()},
        "generated": {name: digest(outcome(raw)) for name, raw in generated()},
    }


if __name__ == "__main__":
    SNAPSHOT.write_text(json.dumps(snapshot(), indent=1, ensure_ascii=False, sort_keys=True) + "\n", "utf-8")
    print(f"wrote {SNAPSHOT}")
