"""``SYNDICATE_ALLOW_PRIVATE_TARGETS`` and its old name ``SYNDICATE_WEBHOOK_ALLOW_PRIVATE``."""

from __future__ import annotations

import pytest

from worker.settings import Settings, unknown_variables


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


def test_an_unknown_variable_is_named_with_the_setting_it_most_likely_meant() -> None:
    env = {
        "SYNDICATE_WEBHOOK_ALLOW_PRIVAT": "1",
        "SYNDICATE_NO_SUCH_THING": "x",
        "SYNDICATE_DEBUG": "1",  # read by the command line itself
        "SYNDICATE_BASE_URL": "http://h",
        "REDIS_URL": "redis://127.0.0.1:1/0",
    }
    assert unknown_variables(env) == [
        "SYNDICATE_NO_SUCH_THING is not a setting and is ignored: see the settings in README.md",
        "SYNDICATE_WEBHOOK_ALLOW_PRIVAT is not a setting and is ignored: "
        "did you mean SYNDICATE_WEBHOOK_ALLOW_PRIVATE?",
    ]
    assert not Settings.from_env(env).webhook_allow_private  # a typo changes nothing


def test_every_setting_comes_from_the_given_mapping_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNDICATE_FEED_WINDOW", "9")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:2/0")
    assert Settings().feed_window == 50  # the class reads nothing itself
    given = Settings.from_env({"SYNDICATE_FEED_WINDOW": "7", "REDIS_URL": "redis://127.0.0.1:3/0"})
    assert (given.feed_window, given.redis_url) == (7, "redis://127.0.0.1:3/0")
    assert Settings.from_env().feed_window == 9 and Settings.from_env().redis_url.endswith(":2/0")
    assert Settings.variable("redis_url") == "REDIS_URL"
    assert Settings.variable("beat_schedule") == "SYNDICATE_BEAT_SCHEDULE"


def test_the_command_line_warns_of_an_unknown_variable_at_start() -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "SYNDICATE_WEBHOOK_ALLOW_PRIVAT": "1"}
    r = subprocess.run(
        [sys.executable, "-m", "worker.cli", "audiences"], env=env, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
    assert (
        "syndicate: warning: SYNDICATE_WEBHOOK_ALLOW_PRIVAT is not a setting and is ignored: "
        "did you mean SYNDICATE_WEBHOOK_ALLOW_PRIVATE?"
    ) in r.stderr
