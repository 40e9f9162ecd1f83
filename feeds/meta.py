"""What a feed says about itself: its URLs, title, language, hubs and archive links."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from feeds.feedkey import FeedKey
from feeds.formats import FeedFormat

GENERATOR = "syndicate"


class FeedMeta(BaseModel):
    """Feed-level data for one audience and section, the same for every format."""

    model_config = ConfigDict(extra="forbid")

    audience: str
    section: str
    title: str
    base_url: str
    language: str
    hubs: list[str] = Field(default_factory=list)
    ttl: int = 15
    rights: str | None = None
    description: str | None = None
    author: str | None = None
    # RFC 5005 (feed paging and archiving); all optional.
    prev_archive_url: str | None = None
    next_archive_url: str | None = None
    current_url: str | None = None
    archive: bool = False
    page: int | None = None  # an RFC 5005 archive page of this feed, or None for the current feed

    @field_validator("base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    def url(self, fmt: FeedFormat) -> str:
        """The feed's own URL in ``fmt`` (its rel=self)."""
        return FeedKey(self.audience, self.section, self.page).url(self.base_url, fmt)

    def page_url(self, page: int, fmt: FeedFormat) -> str:
        """The URL of archive page ``page`` of this feed (RFC 5005 ``prev-archive`` targets)."""
        return FeedKey(self.audience, self.section, page).url(self.base_url, fmt)

    @property
    def home_url(self) -> str:
        """The rel=alternate of every format: the site's base URL."""
        return f"{self.base_url}/"

    @property
    def feed_id(self) -> str:
        """A stable Atom feed id that does not move with the base URL."""
        suffix = f":archive:{self.page}" if self.page is not None else ""
        return f"urn:syndicate:feed:{self.audience}:{self.section}{suffix}"

    @property
    def subtitle(self) -> str:
        return self.description or self.title

    @property
    def author_name(self) -> str:
        return self.author or self.title
