"""A feed's key: ``AUDIENCE/SECTION``, ``AUDIENCE/SECTION@PAGE`` (an RFC 5005 archive page) or
``AUDIENCE/SECTION~CC`` (a strict country variant, ``worker.publish_strict``).

The one place that writes and reads that text, and that turns a key into its other spellings:
the Redis index suffix (``AUDIENCE:SECTION``), the URL path and export path
(``AUDIENCE/SECTION/archive/PAGE``) and the feed's URL in a format.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import quote

from feeds import formats
from worker.names import section_slug

ALL = "all"  # the section of the feed of every section


class FeedKeyError(ValueError):
    def __init__(self, text: str, why: str) -> None:
        super().__init__(f"feed key {text!r} {why}: expected AUDIENCE/SECTION[@PAGE][~CC]")


@dataclass(frozen=True, order=True)
class FeedKey:
    audience: str
    section: str = ALL  # a slug (``section_slug``), or ``all``
    page: int | None = None  # an archive page, or None for the current feed
    variant: str | None = None  # a strict variant's lower-case country code

    @classmethod
    def parse(cls, text: str) -> FeedKey:
        rest, _, variant = text.partition("~")
        name, at, page = rest.partition("@")
        audience, slash, section = name.partition("/")
        if not slash or not audience or not section:
            raise FeedKeyError(text, "has no AUDIENCE/SECTION")
        if at and not (page.isascii() and page.isdigit() and int(page) >= 1):
            raise FeedKeyError(text, f"has page {page!r}, not a number >= 1")
        return cls(audience, section, int(page) if at else None, variant or None)

    @classmethod
    def of_section(cls, audience: str, section: str | None) -> FeedKey:
        """The current feed of ``section`` (a name as articles give it; None: every section)."""
        return cls(audience, section_slug(section) if section else ALL)

    @classmethod
    def from_index(cls, suffix: str) -> FeedKey:
        """The current feed whose Redis index suffix (``AUDIENCE:SECTION``) is ``suffix``."""
        audience, _, section = suffix.partition(":")
        return cls(audience, section)

    def __str__(self) -> str:
        text = f"{self.audience}/{self.section}"
        if self.page is not None:
            text += f"@{self.page}"
        return text + (f"~{self.variant}" if self.variant else "")

    @property
    def index(self) -> str:
        """The suffix of this feed's Redis index and archive keys: ``AUDIENCE:SECTION``."""
        return f"{self.audience}:{self.section}"

    @property
    def current(self) -> FeedKey:
        """The current feed this key belongs to (no archive page, no variant)."""
        return FeedKey(self.audience, self.section)

    def archive(self, page: int) -> FeedKey:
        return replace(self, page=page, variant=None)

    def with_variant(self, country: str) -> FeedKey:
        return replace(self, variant=country.lower())

    @property
    def path(self) -> str:
        """The URL path under ``/feeds/`` and the export path, without the extension:
        ``ru/all`` or ``ru/all/archive/3`` (a variant is served at its audience's path)."""
        base = f"{self.audience}/{self.section}"
        return base if self.page is None else f"{base}/archive/{self.page}"

    @property
    def export_path(self) -> str:
        """The exported file's path without the extension: ``path``, a variant's ``~CC`` after it
        (``ru/all~ua``)."""
        return self.path + (f"~{self.variant}" if self.variant else "")

    def file_name(self, fmt: str) -> str:
        """``ru/all.rss``: the path with the format's extension."""
        return formats.get(fmt).file_name(self.path)

    def url(self, base_url: str, fmt: str, *, encoded: bool = False) -> str:
        """The feed's URL in ``fmt``; ``encoded``: percent-encoded, for an HTTP header (latin-1)."""
        name = self.file_name(fmt)
        return f"{base_url.rstrip('/')}/feeds/{quote(name, safe='/') if encoded else name}"
