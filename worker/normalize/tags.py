"""The tags of a body reduced to the allowlist's vocabulary (the first step of ``structure.finish``).

Comments go, names the parser kept but no element has (``news<p``) are unwrapped, old names get
their allowed spelling (``h1`` -> ``h2``, ``strike`` -> ``s``), links without ``href`` are
unwrapped, and block containers whose tag is not allowed become ``<p>`` (only inline content) or
are unwrapped (so that their paragraphs stay paragraphs).
"""

from __future__ import annotations

import re

from lxml import etree

from worker.normalize.tree import BLOCK_TAGS, drop, unwrap

# Block containers whose own tag is not allowed (span-like ones are always unwrapped).
_CONTAINERS = frozenset(
    re.split(
        r"\s+",
        "div section article main header aside details summary dl dd dt address center hgroup picture"
        " span font form",
    )
)
_SPAN_LIKE = frozenset({"span", "font", "picture"})
_RENAME = {"h1": "h2", "h5": "h4", "h6": "h4", "strike": "s", "del": "s", "ins": "u", "tt": "code"}
_TAG_NAME = re.compile(r"^[a-z][a-z0-9]*$")


def normalize_tags(root: etree._Element) -> None:
    """Reduce the tags under ``root`` in place (see the module docstring)."""
    for element in list(root.iter()):
        if not isinstance(element.tag, str):  # comments, processing instructions
            drop(element)
            continue
        name = element.tag.lower()
        if not _TAG_NAME.match(name):  # the parser keeps names like "news<p": not an element of ours
            unwrap(element)
            continue
        name = _RENAME.get(name, name)
        if name != element.tag:
            element.tag = name
        if name == "a" and not element.get("href"):
            unwrap(element)
    # (renaming or unwrapping a container changes only what its ancestors hold, seen before it)
    holds_block = {a for e in root.iter(*BLOCK_TAGS) for a in e.iterancestors()}
    for element in list(root.iter(*_CONTAINERS)):
        if element is root:
            continue
        if element.tag in _SPAN_LIKE or element in holds_block:
            unwrap(element)
        else:
            element.tag = "p"
            element.attrib.clear()
    for element in root.iter("p"):  # a <p> inside a <p> (renamed containers) would nest: unwrap it
        if next(element.iterancestors("p"), None) is not None:
            element.tag = "span"
    for element in list(root.iter("span")):
        unwrap(element)
