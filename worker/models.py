"""Typed models shared by every stage.

This module is the bottom of the import ladder: it imports nothing of the project, so
``feeds/`` and every pure stage of ``worker/`` can depend on it without pulling in Celery
or Redis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# Where a notice stands in an item: before the body or after it (feeds.content.placed lays it out).
Placement = Literal["start", "end"]

SourceFormat = Literal["text", "html", "json", "ninjs"]
EventType = Literal["article.published", "article.updated", "article.withdrawn"]
PubStatus = Literal["usable", "withheld", "canceled"]
# What ``data.article`` of a subscription's events is: the contract's JSON article, or ninjs 3.1.
PayloadFormat = Literal["json", "ninjs"]
EVENT_TYPES: tuple[EventType, ...] = ("article.published", "article.updated", "article.withdrawn")


class RawInput(BaseModel):
    """One article as it arrived, before normalization.

    ``body`` is the page text, the HTML page or the CMS JSON document. The metadata
    fields carry what the body lacks (the query parameters of ``POST /articles``).
    """

    model_config = ConfigDict(extra="forbid")

    format: SourceFormat
    body: str
    source: str | None = None
    url: str | None = None
    published_at: str | None = None
    section: str | None = None
    language: str | None = None
    guid: str | None = None
    embargoed_until: str | None = None
    expires_at: str | None = None


class LeadImage(BaseModel):
    """The article's lead picture: an absolute http(s) URL, with what the source says about it."""

    model_config = ConfigDict(extra="forbid")

    url: str
    alt: str | None = None
    caption: str | None = None
    credit: str | None = None
    width: int | None = None
    height: int | None = None
    type: str | None = None


class Article(BaseModel):
    """The normalized article: CONTRACTS section 4, field for field."""

    model_config = ConfigDict(extra="forbid")

    id: str
    source: str
    url: str | None = None
    title: str
    authors: list[str] = Field(default_factory=list)
    published_at: datetime | None = None
    updated_at: datetime | None = None
    language: str
    section: str | None = None
    tags: list[str] = Field(default_factory=list)
    summary: str = ""
    body_text: str
    body_html: str
    image: LeadImage | None = None
    content_hash: str
    detected_notices: list[str] = Field(default_factory=list)
    restricted_regions: list[str] = Field(default_factory=list)
    # The newsroom's life cycle: shown nowhere before ``embargoed_until``, withdrawn at ``expires_at``.
    embargoed_until: datetime | None = None
    expires_at: datetime | None = None
    # What the source said of the item's state (ninjs ``pubStatus``): ``withheld`` holds it unseen
    # until an update says ``usable``; ``canceled`` withdraws it. Not part of the article JSON.
    pub_status: PubStatus = "usable"

    def to_public(self) -> dict[str, object]:
        """The contract JSON (dates as ``YYYY-MM-DDTHH:MM:SSZ``)."""
        data = self.model_dump(mode="json", exclude={"pub_status"})
        for key in ("published_at", "updated_at", "embargoed_until", "expires_at"):
            value = getattr(self, key)
            data[key] = iso_utc(value) if value else None
        return data


class NoticeText(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    title: str | None = None


class Notice(BaseModel):
    """A legal notice and the rule that says where it applies."""

    model_config = ConfigDict(extra="forbid")

    id: str
    texts: dict[str, NoticeText]
    default_language: str = "en"
    url: str | None = None
    regions: list[str] = Field(default_factory=list)
    publishers: list[str] = Field(default_factory=list)
    sections: list[str] = Field(default_factory=list)
    effective_from: date | None = None
    effective_until: date | None = None
    placement: Placement = "start"
    withhold: bool = False


class Publisher(BaseModel):
    """A publisher: its id (an article's ``source``), the names and aliases sources use for it, and
    the web domains its articles live on (subdomains included)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    names: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)
    domains: list[str] = Field(default_factory=list)


class Audience(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    regions: list[str] = Field(default_factory=list)
    language: str = "en"
    default: bool = False
    title: str | None = None


class AttachedNotice(BaseModel):
    """A notice as it is attached to one article for one audience."""

    id: str
    language: str
    text: str
    url: str | None = None
    placement: Placement = "start"


class AudienceArticle(BaseModel):
    """An article as one audience sees it: the notices in force for that audience attached."""

    audience: str
    article: Article
    notices: list[AttachedNotice] = Field(default_factory=list)


def iso_utc(value: datetime) -> str:
    """``2021-06-01T12:00:00Z`` for an aware datetime (naive ones are taken as UTC)."""
    from datetime import UTC

    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


DeliveryStatus = Literal["pending", "succeeded", "failed", "dead"]


class Subscription(BaseModel):
    """A partner endpoint that receives signed webhook events for one audience."""

    model_config = ConfigDict(extra="forbid")

    id: str
    url: str
    audience: str
    sections: list[str] = Field(default_factory=list)
    events: list[EventType] = Field(default_factory=lambda: list(EVENT_TYPES))
    rate_limit: int | None = None
    format: PayloadFormat = "json"
    enabled: bool = True
    disabled_reason: str | None = None
    created_at: datetime
    secrets: list[str] = Field(default_factory=list)
    previous_secret_until: datetime | None = None
    last_success_at: datetime | None = None
    failing_since: datetime | None = None

    def public(self) -> dict[str, object]:
        """The subscription as the API shows it: never with its secrets."""
        data = self.model_dump(mode="json", exclude={"secrets", "previous_secret_until"})
        return data


class Delivery(BaseModel):
    """One event to one subscription, with the state of its attempts."""

    model_config = ConfigDict(extra="forbid")

    id: str
    event_id: str
    webhook_id: str
    subscription_id: str
    type: EventType
    audience: str
    article_id: str
    payload_key: str
    status: DeliveryStatus = "pending"
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str | None = None
    last_duration_ms: float | None = None
    last_response: str | None = None
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime | None = None
    replay_of: str | None = None


# -- what an ingest decides and what storage keeps (plain data: ingest.py plans, storage applies) --


@dataclass
class IngestCommit:
    """Everything one ingest writes, applied in one MULTI/EXEC so it happens whole or not at all."""

    article: Article
    version: int
    status: str
    reason: str | None = None  # why it is withdrawn or embargoed (worker.lifecycle)
    kill: str | None = None  # the operator's kill it was planned with: checked again at commit
    life_due: float | None = None  # when the clock changes its state (embargo lifts, expiry)
    embargo_end: float | None = None  # while embargoed: when it lifts (inf: withheld, no time)
    audiences: list[str] = field(default_factory=list)  # where the article is visible
    index_add: dict[str, float] = field(default_factory=dict)  # index key suffix -> score
    index_remove: list[str] = field(default_factory=list)
    section: tuple[str, str] | None = None  # (slug, name)
    dirty: list[str] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    payloads: dict[str, bytes] = field(default_factory=dict)
    events: int = 0


@dataclass(frozen=True)
class StoredArticle:
    article: Article
    version: int
    status: str
    audiences: list[str]
    reason: str | None = None
