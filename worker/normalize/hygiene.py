"""Text hygiene shared by every input shape.

Every text field of an article passes through :func:`clean_text` (one line) and the body
through :func:`clean_paragraphs`; :func:`paragraphs_to_html` builds the sanitized HTML and
must be the last step, after every other transform.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable

from worker import allowlist

# Everything XML 1.0 forbids (C0 controls but TAB/LF/CR, surrogates, U+FFFE/U+FFFF), plus the
# C1 controls and DEL, which XML merely discourages but no article text needs.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# Zero-width and invisible formatting characters. ZWNJ (U+200C) is kept: Persian and other
# scripts need it to spell words correctly.
_ZERO_WIDTH = re.compile("[\u200b\u200d\u2060\u180e\ufeff\u00ad]")
_ASCII_FORBIDDEN = bytes(c for c in range(0x80) if _FORBIDDEN.match(chr(c)))
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")


def strip_forbidden(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (safe before any parser runs).

    ASCII text (a flag check) is filtered as bytes: a whole body in a sixth of the regex's time.
    """
    if text.isascii():
        data = text.encode("ascii")
        kept = data.translate(None, _ASCII_FORBIDDEN)
        return text if len(kept) == len(data) else kept.decode("ascii")
    return _FORBIDDEN.sub("", text)


def has_text(text: str) -> bool:
    """True when ``text`` holds anything but whitespace, zero-width and forbidden characters."""
    if text.isascii():  # no zero-width character is ASCII
        return bool(strip_forbidden(text).strip())
    return bool(_ZERO_WIDTH.sub("", strip_forbidden(text)).strip())


def clean_text(text: str) -> str:
    """One line of clean text: mojibake fixed, NFC, no forbidden or zero-width chars, spaces collapsed.

    Curly quotes are kept (``uncurl_quotes=False``); HTML entities are left alone (the
    callers decode them where the source format calls for it).
    """
    if text.isascii() and text.isprintable() and "  " not in text and text[:1] != " " != text[-1:]:
        return text  # already clean: printable ASCII holds no forbidden character, no space but " "
    text = strip_forbidden(text)
    if text.isascii():
        # Nothing for ftfy to do: with HTML entities and quotes left alone, its fixes all need a
        # non-ASCII character, except line breaks, which the space collapse undoes anyway.
        # ``str.isascii`` is a flag check; a property test holds the two paths equal.
        return collapse_spaces(text)
    return repair_text(text)


def repair_text(text: str) -> str:
    """:func:`clean_text` for any text, through ftfy (the path non-ASCII text takes)."""
    import ftfy  # here: ~60 ms to load, and ASCII text never needs it

    text = ftfy.fix_text(strip_forbidden(text), uncurl_quotes=False, unescape_html=False, normalization="NFC")
    text = collapse_spaces(_ZERO_WIDTH.sub("", text))
    # Removing characters can leave a base letter next to a combining mark: compose again.
    return strip_forbidden(unicodedata.normalize("NFC", text))


def collapse_spaces(text: str) -> str:
    """Runs of white space as one space, none at either end (``str.split`` splits on exactly the
    characters ``\\s`` matches, and is several times faster than a regex substitution)."""
    return " ".join(text.split())


def split_lines(text: str) -> list[str]:
    """The lines of ``text`` (LF, CRLF or CR), forbidden characters removed first.

    Splitting only on real line breaks keeps a stray vertical tab or form feed from cutting
    a paragraph in two.
    """
    return _LINE_BREAKS.split(strip_forbidden(text))


def clean_paragraphs(paragraphs: Iterable[str]) -> list[str]:
    """Cleaned paragraphs, empty ones and repeats (compared case-insensitively) dropped."""
    seen: set[str] = set()
    out: list[str] = []
    for paragraph in paragraphs:
        text = clean_text(paragraph)
        key = text.casefold()
        if text and key not in seen:
            seen.add(key)
            out.append(text)
    return out


def clean_list(values: Iterable[str]) -> list[str]:
    """Cleaned short values (authors, tags), empty ones and repeats dropped, order kept."""
    return clean_paragraphs(values)


def paragraphs_to_html(paragraphs: Iterable[str]) -> str:
    """One ``<p>`` per paragraph, text escaped, then sanitized with nh3 (allowing only ``<p>``)."""
    markup = "\n".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs)
    return allowlist.clean(markup, tags={"p"}, attributes={}, strip_comments=True)
