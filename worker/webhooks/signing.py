"""Standard Webhooks 1.0 signatures: secrets, message ids and the signed headers.

A secret is ``whsec_`` + base64 of the key bytes. The signature of one attempt is
``v1,<base64 HMAC-SHA256(key, "{msg_id}.{timestamp}.{body}")>``; during a secret rotation
both secrets sign, and the signatures are joined with one space, so a receiver holding
either secret verifies the message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as _secrets
import time
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"
MESSAGE_ID_PREFIX = "msg_"
USER_AGENT = "syndicate-webhooks/1"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class InvalidSecret(ValueError):
    """A webhook secret that is not ``whsec_`` + base64 of a non-empty key."""


def new_secret() -> str:
    """A fresh secret: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(32)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key of a secret (the base64-decoded part after ``whsec_``)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        # Pad like the reference verifier does, so unpadded secrets also work.
        key = base64.b64decode(encoded + "==", validate=False)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSecret(f"webhook secret is not base64 after {SECRET_PREFIX!r}: {exc}") from None
    if not key:
        raise InvalidSecret(f"webhook secret is empty; expected {SECRET_PREFIX!r} + base64 of the key")
    return key


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature of ``msg_id.timestamp.body`` with one secret."""
    signed = f"{msg_id}.{int(timestamp)}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def sign(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: one signature per secret, space-separated."""
    if isinstance(secrets, str):
        raise TypeError("sign() takes a sequence of secrets, not one string")
    if not secrets:
        raise InvalidSecret("sign() needs at least one webhook secret, got none")
    return " ".join(signature(secret, msg_id, timestamp, body) for secret in secrets)


def headers(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The request headers of one delivery attempt (the timestamp is fresh per attempt)."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp)),
        "webhook-signature": sign(secrets, msg_id, timestamp, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def _crockford(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, digit = divmod(value, 32)
        chars.append(_CROCKFORD[digit])
    return "".join(reversed(chars))


def new_message_id() -> str:
    """``msg_`` + a ULID: 48 bits of milliseconds then 80 random bits, Crockford base32."""
    millis = time.time_ns() // 1_000_000
    value = (millis & ((1 << 48) - 1)) << 80 | _secrets.randbits(80)
    return MESSAGE_ID_PREFIX + _crockford(value, 26)


def stable_message_id(event_id: str, subscription_id: str) -> str:
    """The ``webhook-id`` shared by every attempt and replay of one event to one subscription."""
    digest = hashlib.sha256(f"{event_id}\x1f{subscription_id}".encode()).digest()
    return MESSAGE_ID_PREFIX + _crockford(int.from_bytes(digest[:16], "big"), 26)
