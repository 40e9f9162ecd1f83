"""``SYNDICATE_ALLOW_PRIVATE_TARGETS`` and its old name ``SYNDICATE_WEBHOOK_ALLOW_PRIVATE``."""

from __future__ import annotations

import pytest

from worker.settings import Settings


@pytest.mark.parametrize(
    ("env", "allowed"),
    [
        ({}, False),
        ({"SYNDICATE_ALLOW_PRIVATE_TARGETS": "0", "SYNDICATE_WEBHOOK_ALLOW_PRIVATE": "0"}, False),
        ({"SYNDICATE_ALLOW_PRIVATE_TARGETS": "1"}, True),
        ({"SYNDICATE_WEBHOOK_ALLOW_PRIVATE": "1"}, True),
        # compose passes both, each defaulting to 0: the old name set to 1 in .env still allows
        ({"SYNDICATE_ALLOW_PRIVATE_TARGETS": "0", "SYNDICATE_WEBHOOK_ALLOW_PRIVATE": "1"}, True),
        ({"SYNDICATE_ALLOW_PRIVATE_TARGETS": "1", "SYNDICATE_WEBHOOK_ALLOW_PRIVATE": "0"}, True),
    ],
)
def test_either_name_allows_private_targets(env: dict[str, str], allowed: bool) -> None:
    settings = Settings.from_env(env)
    assert settings.allow_private_targets is allowed
    assert settings.webhook_allow_private is allowed  # code still reading the old field agrees
