"""The draft article each input shape extracts, before hygiene and identity."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree


@dataclass
class Draft:
    """What one input shape found; empty values mean "the source did not say"."""

    title: str = ""
    paragraphs: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    updated_at: datetime | None = None
    section: str | None = None
    tags: list[str] = field(default_factory=list)
    summary: str | None = None
    url: str | None = None
    guid: str | None = None
    source: str | None = None
    language: str | None = None
    restricted_regions: list[str] = field(default_factory=list)
    detected_notices: list[str] = field(default_factory=list)
    # A structured body (a prepared tree, see ``structure``) in place of ``paragraphs``.
    html: etree._Element | None = None
    # The lead image as the source states it: {"url", "alt", "caption", "credit", "width", "height", "type"}.
    image: dict[str, Any] | None = None
    # The life cycle as the source states it (see ``worker.lifecycle``).
    embargoed_until: datetime | None = None
    expires_at: datetime | None = None
    pub_status: str = "usable"  # "usable", "withheld" or "canceled"
