"""Signatures as Standard Webhooks 1.0 and the reference ``standardwebhooks`` package verify them."""

from __future__ import annotations

import base64
import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from worker.webhooks import signing

SECRET_A = signing.new_secret()
SECRET_B = signing.new_secret()

bodies = st.dictionaries(st.text(max_size=20), st.text(max_size=200), max_size=5).map(
    lambda data: json.dumps({"type": "article.published", "data": data}, ensure_ascii=False).encode()
)


def test_new_secret_is_whsec_and_32_random_bytes() -> None:
    secret = signing.new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert secret != signing.new_secret()


@settings(max_examples=60, deadline=None)
@given(body=bodies)
def test_reference_verifier_accepts_random_bodies(body: bytes) -> None:
    msg_id = signing.new_message_id()
    headers = signing.headers([SECRET_A], msg_id, int(time.time()), body)
    Webhook(SECRET_A).verify(body, headers, json_parse=False)


@settings(max_examples=30, deadline=None)
@given(body=bodies)
def test_rotation_verifies_with_either_secret_alone(body: bytes) -> None:
    headers = signing.headers([SECRET_A, SECRET_B], "msg_x", int(time.time()), body)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(SECRET_A).verify(body, headers, json_parse=False)
    Webhook(SECRET_B).verify(body, headers, json_parse=False)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(body, headers, json_parse=False)


def test_tampered_body_fails() -> None:
    body = b'{"type": "article.published"}'
    headers = signing.headers([SECRET_A], "msg_1", int(time.time()), body)
    with pytest.raises(WebhookVerificationError, match="signature"):
        Webhook(SECRET_A).verify(body.replace(b"published", b"withdrawn"), headers)


def test_tampered_timestamp_fails() -> None:
    body = b"{}"
    now = int(time.time())
    headers = signing.headers([SECRET_A], "msg_1", now, body)
    headers["webhook-timestamp"] = str(now - 1)
    with pytest.raises(WebhookVerificationError, match="signature"):
        Webhook(SECRET_A).verify(body, headers)


def test_tampered_message_id_fails() -> None:
    headers = signing.headers([SECRET_A], "msg_1", int(time.time()), b"{}")
    headers["webhook-id"] = "msg_2"
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET_A).verify(b"{}", headers)


def test_known_vector_matches_reference_sign() -> None:
    # The example from the Standard Webhooks spec test suite.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    msg_id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert signing.sign([secret], msg_id, 1614265330, body) == expected


def test_headers_hold_exactly_the_contract_fields() -> None:
    headers = signing.headers([SECRET_A], "msg_1", 1700000000, b"{}")
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == "1700000000"
    assert headers["webhook-signature"].startswith("v1,")
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "syndicate-webhooks/1"
    expected = {"webhook-id", "webhook-timestamp", "webhook-signature", "content-type", "user-agent"}
    assert set(headers) == expected


@pytest.mark.parametrize(
    "secrets",
    [pytest.param([], id="no-secret"), pytest.param(["whsec_"], id="empty-key")],
)
def test_unusable_secrets_raise_named_error(secrets: list[str]) -> None:
    with pytest.raises(signing.InvalidSecret):
        signing.sign(secrets, "msg_1", 1, b"{}")


def test_single_string_is_not_taken_for_a_list_of_characters() -> None:
    with pytest.raises(TypeError):
        signing.sign(SECRET_A, "msg_1", 1, b"{}")  # type: ignore[arg-type]


def test_message_ids() -> None:
    ids = {signing.new_message_id() for _ in range(500)}
    assert len(ids) == 500
    assert all(i.startswith("msg_") and len(i) == 30 for i in ids)
    stable = signing.stable_message_id("evt_1", "sub_1")
    assert stable == signing.stable_message_id("evt_1", "sub_1")
    assert stable.startswith("msg_")
    assert stable != signing.stable_message_id("evt_1", "sub_2")
    assert stable != signing.stable_message_id("evt_2", "sub_1")
    # the separator keeps ("a", "bc") and ("ab", "c") apart
    assert signing.stable_message_id("a", "bc") != signing.stable_message_id("ab", "c")


def test_new_message_ids_sort_by_time() -> None:
    first = signing.new_message_id()
    time.sleep(0.002)
    assert signing.new_message_id() > first
