"""Text hygiene: ftfy, NFC, XML-safe characters, zero-width characters, whitespace, duplicates."""

from __future__ import annotations

import unicodedata

import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worker.allowlist import sanitize
from worker.models import RawInput
from worker.normalize import normalize
from worker.normalize.hygiene import clean_paragraphs, clean_text, paragraphs_to_html, repair_text

ASCII_TEXT = st.text(alphabet=st.characters(max_codepoint=127), max_size=200)
SHAPED_ASCII = st.lists(
    st.sampled_from(
        [
            "Don't",
            "&amp;",
            "\x1b[31m",
            "\x1b",
            "\r\n",
            "\r",
            "\n",
            "\t",
            "\x0c",
            "\x00",
            "  ",
            "A",
            "--",
            "...",
            '"q"',
        ]
    ),
    max_size=30,
).map("".join)


@settings(max_examples=400)
@given(st.one_of(ASCII_TEXT, SHAPED_ASCII))
def test_ascii_shortcut_equals_the_ftfy_path(text: str) -> None:
    """clean_text skips ftfy for ASCII text; that must never change the result."""
    assert clean_text(text) == repair_text(text)


def test_non_ascii_text_still_goes_through_ftfy() -> None:
    assert clean_text("doesnÃ¢â‚¬â„¢t") == "doesn’t" == repair_text("doesnÃ¢â‚¬â„¢t")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("“curly” ‘quotes’ stay", "“curly” ‘quotes’ stay"),
        ("cafe\u0301", "caf\u00e9"),  # NFC
        ("The Mona Lisa doesnÃ¢â‚¬â„¢t have eyebrows.", "The Mona Lisa doesn’t have eyebrows."),  # mojibake
        ("a\x0bb\x08c\x01d\ufffee\ud800f", "abcdef"),  # XML 1.0 forbidden
        ("zero\u200bwidth\ufeff\u2060joined\u200d", "zerowidthjoined"),
        ("می\u200cخواهم", "می\u200cخواهم"),  # ZWNJ kept: Persian needs it
        ("  many \t spaces\u00a0and\nlines  ", "many spaces and lines"),
        ("e\u200b\u0301", "\u00e9"),  # composed again after a zero-width space is gone
        ("replacement \ufffd chars \ufffd stay", "replacement \ufffd chars \ufffd stay"),
        ("&amp; stays literal", "&amp; stays literal"),
    ],
    ids=[
        "curly-quotes", "nfc", "mojibake", "forbidden", "zero-width", "zwnj", "whitespace", "recompose",
        "replacement-char", "no-entity-decoding",
    ],
)  # fmt: skip
def test_clean_text(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


def test_clean_paragraphs_drops_empty_and_repeats() -> None:
    assert clean_paragraphs(["One.", " ", "\u200b", "Two.", "one.", "  One.  ", "Three."]) == [
        "One.",
        "Two.",
        "Three.",
    ]


def test_paragraphs_to_html_escapes_and_sanitizes() -> None:
    html = paragraphs_to_html(["a < b & c", "<script>x()</script>", 'say "hi"'])
    assert html == '<p>a &lt; b &amp; c</p>\n<p>&lt;script&gt;x()&lt;/script&gt;</p>\n<p>say "hi"</p>'


def test_body_full_of_replacement_characters_is_accepted() -> None:
    body = "\ufffd\ufffd \ufffd\ufffd\ufffd \ufffd.\n\ufffd\ufffd \ufffd\n- By \ufffd\ufffd"
    article = normalize(RawInput(format="text", body=body))
    assert article.title == "\ufffd\ufffd \ufffd"
    assert article.language == "und"  # nothing to detect a language from


def test_forbidden_characters_inside_lines_do_not_split_paragraphs() -> None:
    body = "One para\x0bgraph with a vertical tab.\x0c\nHead\x00line\n- By Jane\x08 Doe"
    article = normalize(RawInput(format="text", body=body))
    assert article.body_text == "One paragraph with a vertical tab."
    assert article.title == "Headline"
    assert article.authors == ["Jane Doe"]


@pytest.mark.parametrize(
    "markup",
    ["<p>\u0338 word</p>", "<p><b>x</b>\u0338y</p>", "<h2>T</h2>\n<p>\u0338\u0338z</p>"],
)
def test_an_overlay_mark_after_a_tag_does_not_eat_the_tag(markup: str) -> None:
    """nh3 composes ``>`` + U+0338 into ``≯`` (found by the property test): the tag must survive."""
    out = sanitize(markup)
    assert "\u226f" not in out and "\u0338" not in out
    assert lxml.html.fragment_fromstring(out, create_parent="div").text_content().strip()
    assert out.count("<") == out.count(">")


def test_a_paragraph_beginning_with_an_overlay_mark_stays_a_paragraph() -> None:
    html_out = paragraphs_to_html(["\u0338 word", "a \u2260 b"])
    assert html_out == "<p> word</p>\n<p>a \u2260 b</p>"
    page = "x\n\u0338abc def\nFirst paragraph x\n\u0338abc def.\nT headline\n- By A x\nz"
    article = normalize(RawInput(format="text", body=page))
    assert "\u226f" not in article.body_html and unicodedata.is_normalized("NFC", article.body_html)
