"""docker-compose.sentinel.yml: a primary, two replicas, three sentinels, every role wired to them."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from tests.unit.test_deploy_files import ROOT, SYNDICATE_ROLES, _compose_binary
from worker.settings import Settings, parse_sentinels

SENTINEL = yaml.safe_load((ROOT / "docker-compose.sentinel.yml").read_text(encoding="utf-8"))
SERVICES = SENTINEL["services"]


def test_one_primary_two_replicas_three_sentinels() -> None:
    nodes = {n: SERVICES[n]["command"] for n in ("redis", "redis-replica-1", "redis-replica-2")}
    assert "--replicaof" not in nodes["redis"]
    for name in ("redis-replica-1", "redis-replica-2"):
        assert "--replicaof redis 6379" in nodes[name]
    for command in nodes.values():  # any of them may be promoted: each keeps every write
        for flag in ("--appendonly yes", "--maxmemory-policy noeviction", "--min-replicas-to-write 1"):
            assert flag in command
    sentinels = [n for n in SERVICES if n.startswith("sentinel-")]
    assert len(sentinels) == 3
    for name in sentinels:
        script = " ".join(SERVICES[name]["command"])
        assert "--sentinel" in script
        monitor = re.search(r"sentinel monitor (\S+) redis 6379 (\d+)", script)
        assert monitor and monitor.group(2) == "2"  # a majority of three


def test_every_role_finds_the_primary_through_the_sentinels() -> None:
    script = " ".join(SERVICES["sentinel-1"]["command"])
    monitored = re.search(r"sentinel monitor (\S+) ", script)
    assert monitored
    for role in SYNDICATE_ROLES:
        env = SERVICES[role]["environment"]
        settings = Settings.from_env({**env, "SYNDICATE_ACK_REPLICAS": "1"})
        assert settings.redis_sentinel_master == monitored.group(1)
        hosts = {h for h, _ in parse_sentinels(settings.redis_sentinels)}
        assert hosts == {"sentinel-1", "sentinel-2", "sentinel-3"}
        assert set(SERVICES[role]["depends_on"]) == hosts


def test_sentinel_compose_config_validates() -> None:
    binary = _compose_binary()
    if binary is None:
        pytest.skip("no docker compose / docker-compose on this machine; the YAML checks above still ran")
    files = ["-f", str(ROOT / "docker-compose.yml"), "-f", str(ROOT / "docker-compose.sentinel.yml")]
    command = [*binary, *files, "config", "-q"]
    r = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
