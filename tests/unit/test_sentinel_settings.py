"""Sentinel settings and the connections built from them (no Redis: nothing here connects)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from worker.settings import Settings, parse_sentinels, redact
from worker.storage.connect import RedisTarget, broker

SENTINEL_ENV = {
    "REDIS_URL": "redis://:data%40pw@ignored-host:6379/3",
    "REDIS_SENTINELS": "10.0.0.5:26379, 10.0.0.6:26380,[::1]:26381",
    "REDIS_SENTINEL_MASTER": "syn",
    "REDIS_SENTINEL_PASSWORD": "sentinel-secret",
    "SYNDICATE_ACK_REPLICAS": "1",
    "SYNDICATE_ACK_TIMEOUT_MS": "750",
}


def test_parse_sentinels() -> None:
    assert parse_sentinels("a:1,b:2") == [("a", 1), ("b", 2)]
    assert parse_sentinels(" [::1]:26379 ,, ") == [("::1", 26379)]
    assert parse_sentinels("") == []


@pytest.mark.parametrize("bad", ["a", "a:", ":26379", "a:port", "a:0", "a:70000"])
def test_bad_sentinel_entry_is_named(bad: str) -> None:
    with pytest.raises(ValidationError, match=f"REDIS_SENTINELS entry '{bad}' is not host:port"):
        Settings.from_env({"REDIS_SENTINELS": f"ok:1,{bad}", "REDIS_SENTINEL_MASTER": "m"})


def test_sentinels_need_a_master_name() -> None:
    with pytest.raises(ValidationError, match="REDIS_SENTINEL_MASTER is not"):
        Settings.from_env({"REDIS_SENTINELS": "a:1"})


def test_settings_from_env() -> None:
    s = Settings.from_env(SENTINEL_ENV)
    assert (s.redis_sentinel_master, s.redis_sentinel_password) == ("syn", "sentinel-secret")
    assert (s.ack_replicas, s.ack_timeout_ms) == (1, 750)
    defaults = Settings.from_env({})
    assert (defaults.redis_sentinels, defaults.ack_replicas) == ("", 0)
    with pytest.raises(ValidationError):
        Settings.from_env({"SYNDICATE_ACK_REPLICAS": "-1"})


def test_no_secret_in_describe() -> None:
    shown = str(Settings.from_env(SENTINEL_ENV).describe())
    assert "sentinel-secret" not in shown and "data%40pw" not in shown and "data@pw" not in shown
    assert redact("redis://u:p@h:1/0") == "redis://u:***@h:1/0"
    assert redact("redis://h:1/0") == "redis://h:1/0"


def test_target_takes_db_and_password_from_redis_url() -> None:
    t = RedisTarget.from_settings(Settings.from_env(SENTINEL_ENV))
    assert t.uses_sentinel
    assert t.sentinels == (("10.0.0.5", 26379), ("10.0.0.6", 26380), ("::1", 26381))
    assert (t.master, t.db, t.password, t.username) == ("syn", 3, "data@pw", None)
    assert "pw" not in t.describe() and "secret" not in t.describe()
    plain = RedisTarget.from_settings(Settings.from_env({"REDIS_URL": "redis://:pw@h:7/2"}))
    assert not plain.uses_sentinel and plain.db == 2 and plain.describe() == "redis://:***@h:7/2"


def test_broker_url_and_options_with_sentinel() -> None:
    url, options = broker(RedisTarget.from_settings(Settings.from_env(SENTINEL_ENV)))
    assert url == (
        "sentinel://:data%40pw@10.0.0.5:26379/3;"
        "sentinel://:data%40pw@10.0.0.6:26380/3;"
        "sentinel://:data%40pw@[::1]:26381/3"
    )
    assert options["master_name"] == "syn"
    assert options["sentinel_kwargs"]["password"] == "sentinel-secret"


def test_broker_without_sentinel_is_redis_url() -> None:
    assert broker("redis://127.0.0.1:6379/0") == ("redis://127.0.0.1:6379/0", {})


def test_kombu_reads_the_broker_url_as_we_mean_it() -> None:
    """kombu's own parsing (no connection): every sentinel, the db and the data password."""
    from kombu import Connection

    url, options = broker(RedisTarget.from_settings(Settings.from_env(SENTINEL_ENV)))
    conn = Connection(url, transport_options=options)
    assert conn.transport_cls == "sentinel"
    assert len(conn.alt) == 3
    assert (conn.hostname, conn.port, conn.virtual_host, conn.password) == ("10.0.0.5", 26379, "3", "data@pw")
    assert conn.transport_options["master_name"] == "syn"
