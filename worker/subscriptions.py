"""Subscription management shared by the HTTP API and the CLI."""

from __future__ import annotations

import logging
import secrets as pysecrets
from contextlib import suppress
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from worker.models import EVENT_TYPES, Delivery, EventType, PayloadFormat, Subscription
from worker.net.ssrf import ForbiddenTarget, check_url
from worker.runtime import Nudger, Runtime
from worker.settings import PRIVATE_TARGETS_HINT
from worker.storage import StorageUnavailable
from worker.webhooks.signing import new_secret

log = logging.getLogger("syndicate.subscriptions")
ROTATION_OVERLAP = timedelta(hours=24)


class SubscriptionError(ValueError):
    """A subscription request that cannot be honoured; the message names the field."""


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: HttpUrl
    audience: str
    sections: list[str] = Field(default_factory=list)
    events: list[EventType] = Field(default_factory=lambda: list(EVENT_TYPES))
    rate_limit: int | None = Field(default=None, ge=1, le=10_000, description="requests per second")
    format: PayloadFormat = Field(
        default="json",
        description="data.article of its events: the JSON article (json) or IPTC ninjs 3.1 (ninjs)",
    )


class SubscriptionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: HttpUrl | None = None
    audience: str | None = None
    sections: list[str] | None = None
    events: list[EventType] | None = None
    rate_limit: int | None = Field(default=None, ge=1, le=10_000)
    format: PayloadFormat | None = None
    enabled: bool | None = None


def _check_target(rt: Runtime, url: str) -> None:
    allow = rt.settings.allow_private_targets
    if allow:
        log.warning(
            "SYNDICATE_ALLOW_PRIVATE_TARGETS=1: private webhook targets are allowed (development only)"
        )
    try:
        check_url(url, allow_private=allow)
    except ForbiddenTarget as exc:  # a ValueError: 422 from the API, exit 2 from the CLI
        private = any(word in str(exc) for word in ("private", "loopback", "link-local", "localhost"))
        raise ForbiddenTarget(f"{exc}; {PRIVATE_TARGETS_HINT}" if private else str(exc)) from None


def _check_audience(rt: Runtime, audience: str) -> None:
    if rt.config.audience(audience) is None:
        known = ", ".join(a.id for a in rt.config.audiences)
        raise SubscriptionError(f"audience '{audience}' is not configured (known: {known})")


def create(rt: Runtime, data: SubscriptionIn) -> tuple[Subscription, str]:
    """A new subscription and its secret (shown to the caller only this once)."""
    _check_audience(rt, data.audience)
    _check_target(rt, str(data.url))
    secret = new_secret()
    sub = Subscription(
        id="sub_" + pysecrets.token_hex(12),
        url=str(data.url),
        audience=data.audience,
        sections=data.sections,
        events=data.events or list(EVENT_TYPES),
        rate_limit=data.rate_limit,
        format=data.format,
        created_at=datetime.now(UTC),
        secrets=[secret],
    )
    try:
        rt.store.save_subscription(sub)
    except StorageUnavailable:
        # Not acknowledged (Redis away, or too few replicas confirmed it): its id and secret reach
        # no one, so take it back where it did land, or a retry would leave two.
        with suppress(StorageUnavailable):
            rt.store.delete_subscription(sub.id)
        raise
    return sub, secret


def update(rt: Runtime, sub: Subscription, patch: SubscriptionPatch) -> Subscription:
    changes = patch.model_dump(exclude_unset=True)
    if "audience" in changes:
        _check_audience(rt, changes["audience"])
    if changes.get("url") is not None:
        changes["url"] = str(changes["url"])
        _check_target(rt, changes["url"])
    if changes.get("enabled") is True:
        changes["disabled_reason"] = None
        changes["failing_since"] = None
    updated = sub.model_copy(update={k: v for k, v in changes.items() if v is not None or k == "rate_limit"})
    rt.store.save_subscription(updated)
    return updated


def rotate(rt: Runtime, sub: Subscription) -> tuple[Subscription, str]:
    """A new secret; the old one still signs for 24 hours (two signatures per attempt)."""
    secret = new_secret()
    rotated = sub.model_copy(
        update={
            "secrets": [secret, *sub.secrets[:1]],
            "previous_secret_until": datetime.now(UTC) + ROTATION_OVERLAP,
        }
    )
    rt.store.save_subscription(rotated)
    return rotated, secret


def replay(rt: Runtime, original: Delivery, nudge: Nudger) -> Delivery:
    """Send an event again to the same subscription, with the same ``webhook-id``."""
    now = datetime.now(UTC)
    copy = original.model_copy(
        update={
            "id": "dlv_" + pysecrets.token_hex(12),
            "status": "pending",
            "attempts": 0,
            "last_status_code": None,
            "last_error": None,
            "last_duration_ms": None,
            "last_response": None,
            "created_at": now,
            "updated_at": now,
            "next_attempt_at": now,
            "replay_of": original.id,
        }
    )
    rt.store.save_delivery(copy, due_at=now.timestamp(), acked=True)
    nudge.deliver([copy.id])
    return copy
