"""trafilatura's XML body (``p``, ``head``, ``list``/``item``, ``quote``, ``ref``, ``hi``...) as the
HTML the structure path works on."""

from __future__ import annotations

from lxml import etree

from worker.normalize.tree import text_of

_XML_HI = {"#b": "strong", "#i": "em", "#u": "u", "#t": "code", "#sub": "sub", "#sup": "sup"}
_INLINE = frozenset({"a", "strong", "em", "u", "code", "sub", "sup", "s", "b", "i"})


def from_trafilatura(body: etree._Element) -> etree._Element:
    """trafilatura's XML body (``p``, ``head``, ``list``/``item``, ``quote``, ``ref``, ``hi``...) as HTML."""

    root = etree.Element("div")
    root.text = body.text
    root.extend(list(body))
    for element in root.iter():
        tag = element.tag
        if not isinstance(tag, str):
            continue
        attrs = dict(element.attrib)
        element.attrib.clear()
        if tag == "head":
            level = attrs.get("rend", "h3")[1:]
            element.tag = f"h{min(4, max(2, int(level) if level.isdigit() else 3))}"
        elif tag == "list":
            element.tag = "ol" if attrs.get("rend") == "ol" else "ul"
        elif tag == "item":
            element.tag = "li"
        elif tag == "quote":
            element.tag = "blockquote"
        elif tag == "code":
            element.tag = "pre"
        elif tag == "lb":
            element.tag = "br"
        elif tag == "graphic":
            element.tag = "img"
            for name in ("src", "alt"):
                if attrs.get(name):
                    element.set(name, attrs[name])
        elif tag == "ref":
            element.tag = "a"
            if attrs.get("target"):
                element.set("href", attrs["target"])
        elif tag == "hi":
            element.tag = _XML_HI.get(attrs.get("rend", "#i"), "em")
        elif tag == "del":
            element.tag = "s"
        elif tag == "row":
            element.tag = "tr"
        elif tag == "cell":
            element.tag = "th" if attrs.get("role") == "head" else "td"
    _space_inline(root)
    return root


def _space_inline(root: etree._Element) -> None:
    """trafilatura trims the space between a link or emphasis and the words around it: put it back."""
    for element in root.iter(*_INLINE):
        tail = element.tail or ""
        if tail[:1].isalnum() and text_of(element)[-1:].isalnum():
            element.tail = " " + tail
        previous = element.getprevious()
        before = (previous.tail if previous is not None else element.getparent().text) or ""
        if before[-1:].isalnum() and (element.text or "")[:1].isalnum():
            if previous is not None:
                previous.tail = before + " "
            else:
                element.getparent().text = before + " "
