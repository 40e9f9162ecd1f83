"""The fast paths of normalization give what the plain code they replace gave, on any input.

Each reference below is the code as it was before the fast path (kept here, and only here, as
the definition); hypothesis looks for an input where the two differ.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

import lxml.html
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from worker.allowlist import url_allowed
from worker.models import Notice
from worker.normalize import detect, hygiene, links, markup, paragraphs, prepare, structure, tags, tree
from worker.normalize.urls import is_tracking_param

PROFILE = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
NASTY = [
    "\x00",
    "\x01",
    "\x0b",
    "\x1c",
    "\x7f",
    "\x85",
    "\xa0",
    "\u2003",
    "\u200b",
    "\ud800",
    "\t",
    "\n",
    "\r",
]
TEXT = st.text(
    alphabet=st.one_of(st.sampled_from([" ", "a", "Z", "1", *NASTY]), st.characters()), max_size=60
)
ASCII = st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=60)
NOTICES = [
    Notice.model_validate(n)
    for n in json.loads(
        (Path(__file__).parents[1] / "data" / "normalize" / "notices.json").read_text("utf-8")
    )
]


def _old_clean_ascii(text: str) -> str:
    return re.sub(r"\s+", " ", FORBIDDEN.sub("", text)).strip()


@PROFILE
@given(st.one_of(TEXT, ASCII))
def test_strip_forbidden(text: str) -> None:
    assert hygiene.strip_forbidden(text) == FORBIDDEN.sub("", text)


@PROFILE
@given(ASCII)
def test_clean_text_of_ascii(text: str) -> None:
    assert hygiene.clean_text(text) == _old_clean_ascii(text)


@PROFILE
@given(st.one_of(TEXT, ASCII))
def test_has_text(text: str) -> None:
    assert hygiene.has_text(text) == bool(
        re.sub("[\u200b\u200d\u2060\u180e\ufeff\u00ad]", "", FORBIDDEN.sub("", text)).strip()
    )


@PROFILE
@given(TEXT)
def test_collapse_spaces(text: str) -> None:
    assert hygiene.collapse_spaces(text) == re.sub(r"\s+", " ", text).strip()


def _old_absolute_url(value: str | None, base: str | None, attribute: str = "href") -> str | None:
    raw = "".join((value or "").split()) if value and "\n" in value else (value or "").strip()
    if not raw:
        return None
    if raw.startswith("//"):
        raw = "https:" + raw
    try:
        resolved = urljoin(base, raw) if base else raw
        parts = urlsplit(resolved)
        parts.port  # noqa: B018
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme == "mailto":
        return resolved if url_allowed(attribute, resolved) else None
    if scheme not in {"http", "https"} or not parts.hostname:
        return None
    pairs = [p for p in parts.query.split("&") if p and not is_tracking_param(unquote_plus(p.split("=")[0]))]
    netloc = parts.netloc.lower() if "@" not in parts.netloc else parts.netloc.rsplit("@", 1)[1].lower()
    cleaned = urlunsplit((scheme, netloc, parts.path or "/", "&".join(pairs), parts.fragment))
    return cleaned if url_allowed(attribute, cleaned) else None


_URL_PART = st.text(alphabet=list("aB9.-_~/?#;:@[]%&= \t\x01é"), max_size=20)
URLS = st.builds(
    lambda scheme, host, rest: scheme + host + rest,
    st.sampled_from(
        ["http://", "https://", "HTTP://", "Https://", "//", "mailto:", "ftp://", "", "/", "../"]
    ),
    st.sampled_from(
        ["example.org", "EX.org:80", "u@h.example", "[::1]", "[bad", "", "h.example:x", "é.example"]
    ),
    _URL_PART,
)
BASES = st.one_of(
    st.none(), st.just(""), URLS, st.sampled_from(["https://news.example.org/a/b?q=1", "http://x/"])
)


@PROFILE
@given(URLS, BASES, st.sampled_from(["href", "src", "cite"]))
def test_absolute_url(value: str, base: str | None, attribute: str) -> None:
    assert links.absolute_url(value, base, attribute) == _old_absolute_url(value, base, attribute)


def _old_url_allowed(attribute: str, value: str) -> bool:
    schemes = {"href": ("http://", "https://", "mailto:"), "src": ("http://", "https://")}.get(attribute)
    if schemes is None:
        return True
    lowered = value.strip().lower()
    if not lowered.startswith(schemes) or any(c.isspace() or ord(c) < 32 for c in value):
        return False
    if lowered.startswith("mailto:"):
        return len(lowered) > len("mailto:")
    rest = lowered.split("//", 1)[1]
    return bool(rest) and rest[0] not in "/\\"


@PROFILE
@given(URLS, st.sampled_from(["href", "src", "alt"]))
def test_url_allowed(value: str, attribute: str) -> None:
    assert url_allowed(attribute, value) == _old_url_allowed(attribute, value)


def _old_notice_blocks(blocks: list[str], notices: list[Notice]) -> tuple[set[int], list[str]]:
    """detect.notice_blocks without its shortcuts (keys, vocabulary)."""
    patterns = detect._build_patterns(notices)
    if not patterns or not blocks:
        return set(), []
    block_words = [detect.words(b) for b in blocks]
    owner = [i for i, ws in enumerate(block_words) for _ in ws]
    flat = [w for ws in block_words for w in ws]
    hits: list[dict[int, set[int]]] = []
    for pattern in patterns:
        size = pattern.size
        found: dict[int, set[int]] = {}
        for start in range(len(flat) - size + 1):
            for pos in pattern.shingles.get(tuple(flat[start : start + size]), ()):
                for k in range(size):
                    found.setdefault(start + k, set()).add(pos + k)
        hits.append(found)
    any_hit = set().union(*hits)
    covered = [t in any_hit for t in range(len(flat))]
    first = [0] * len(blocks)
    for t in reversed(range(len(flat))):
        first[owner[t]] = t
    candidate = [
        detect._mostly_notice(ws, covered[first[i] : first[i] + len(ws)]) for i, ws in enumerate(block_words)
    ]
    removed: set[int] = set()
    detected: list[str] = []
    i = 0
    while i < len(blocks):
        if not candidate[i]:
            i += 1
            continue
        j = i
        while j < len(blocks) and candidate[j]:
            j += 1
        span = range(first[i], first[j - 1] + len(block_words[j - 1]))
        ids = [p for k, p in enumerate(patterns) if detect._held(hits[k], span) >= p.needed]
        if ids:
            removed.update(range(i, j))
            removed.update(detect._companions(block_words, i, j, ids))
            detected.extend(p.notice_id for p in ids if p.notice_id not in detected)
        i = j
    return removed, detected


_NOTICE_WORDS = " ".join(v.text + " " + (v.title or "") for n in NOTICES for v in n.texts.values()).split()
BLOCK = st.one_of(
    st.lists(st.sampled_from(_NOTICE_WORDS), max_size=30).map(" ".join),
    st.builds(lambda n, a, b: " ".join(_NOTICE_WORDS[a : a + n]) + b, st.integers(0, 80),
              st.integers(0, len(_NOTICE_WORDS)), st.sampled_from(["", " To find out more, click here."])),
    st.sampled_from(["To find out more, click here.", "Important notice", "Подробнее", "RUSSIA", ""]),
    TEXT,
)  # fmt: skip


@PROFILE
@given(st.lists(BLOCK, max_size=8))
def test_notice_blocks(blocks: list[str]) -> None:
    assert detect.notice_blocks(blocks, NOTICES) == _old_notice_blocks(blocks, NOTICES)


def test_every_shingle_holds_a_key() -> None:
    index = detect._index(NOTICES)
    for pattern in index.patterns:
        for shingle in pattern.shingles:
            assert any(key in word for word in shingle for key in index.keys), shingle


HTML = st.lists(
    st.sampled_from(["<p>", "</p>", "<li>", "</li>", "<td>", "</td>", "<h2 class='x'>", "</h2>", "<pre>",
                     "</pre>", "<div>", "</div>", "<span>", "</span>", "<br>", "<!--c-->", "<html>", "<body>",
                     "<head>", "<title>t</title>", "<script>s</script>", "<nav>n</nav>", " ", "\n", "\xa0",
                     "x",
                     "&amp;", "é", "ё", "<ul>", "</ul>", "<img src='/i.jpg'>", "<code>", "</code>"]),
    max_size=25,
).map("".join)  # fmt: skip


@PROFILE
@given(HTML)
def test_trim_block_space(markup_text: str) -> None:
    old = re.sub(r"\s+(</(?:p|h2|h3|h4|li|figcaption|blockquote|td|th|caption)>)", r"\1", markup_text)
    assert structure._trim_block_space(markup_text) == old


def _dump(items: list[str | etree._Element]) -> list[str]:
    return [i if isinstance(i, str) else etree.tostring(i, encoding="unicode", method="html") for i in items]


@PROFILE
@given(HTML)
def test_parse_fragments(markup_text: str) -> None:
    try:
        old: list[str] | str = _dump(lxml.html.fragments_fromstring(markup_text))
    except (etree.ParserError, AssertionError) as exc:
        old = type(exc).__name__
    try:
        new: list[str] | str = _dump(markup.parse_fragments(markup_text))
    except (etree.ParserError, AssertionError) as exc:
        new = type(exc).__name__
    assert new == old


def _old_leaves(root: etree._Element) -> list[etree._Element]:
    holders = (*structure._LEAVES, "ul", "ol", "table")
    return [
        e for e in root.iter(*structure._LEAVES) if not any(c.tag in holders for c in e.iterdescendants())
    ]


@PROFILE
@given(HTML)
def test_leaves_and_blank(markup_text: str) -> None:
    try:
        root = markup.parse_fragment(markup_text)
    except AssertionError:  # lxml.html's failure on a document of only a <head>, kept as it was
        return
    assert structure._leaves(root) == _old_leaves(root)
    for element in root.iter(etree.Element):
        assert tree.is_blank(element) == (not tree.text_of(element))


def _old_html_to_paragraphs(fragment: str) -> list[str]:
    try:
        root = lxml.html.document_fromstring(hygiene.strip_forbidden(fragment))
    except (etree.ParserError, ValueError):
        return []
    chunks: list[str] = []

    def walk(element: etree._Element) -> None:
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if tag and tag not in paragraphs._NEVER:
            block = tag in paragraphs.BLOCKS
            chunks.append("\x00" if block else "")
            chunks.append(element.text or "")
            for child in element:
                walk(child)
            chunks.append(" " if tag in {"br", "lb"} else "")
            chunks.append("\x00" if block else "")
        chunks.append(element.tail or "")

    walk(root)
    return [" ".join(p.split()) for p in "".join(chunks).split("\x00") if p.strip()]


@PROFILE
@given(HTML)
def test_html_to_paragraphs(markup_text: str) -> None:
    assert paragraphs.html_to_paragraphs(markup_text) == _old_html_to_paragraphs(markup_text)


def _finished_tree(markup_text: str) -> etree._Element | None:
    """The tree ``finish`` serializes, up to loose text wrapped (None where parsing fails)."""
    try:
        root = markup.parse_fragment(markup_text)
    except AssertionError:
        return None
    prepare.prepare(root, "https://example.org/a/")
    tags.normalize_tags(root)
    structure._clean_text(root)
    structure._drop_blocks(root, "Title", NOTICES)
    return root


@PROFILE
@given(HTML)
def test_wrap_and_serialize(markup_text: str) -> None:
    root = _finished_tree(markup_text)
    if root is None:
        return
    general = copy.deepcopy(root)
    structure._wrap_inline(general)
    structure._wrap_loose_text(root)
    old = "\n".join(etree.tostring(c, encoding="unicode", method="html", with_tail=False) for c in general)
    assert structure._serialize(root) == old


@PROFILE
@given(HTML)
def test_text_is_the_text_nodes_joined(markup_text: str) -> None:
    try:
        root = markup.parse_fragment(markup_text)
    except AssertionError:
        return
    for element in root.iter(etree.Element):
        assert tree.text_of(element) == " ".join("".join(element.itertext()).split())
