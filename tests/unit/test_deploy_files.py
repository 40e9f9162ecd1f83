"""docker-compose.yml, Dockerfile and .env.example keep the promises of issue 10.

No Docker engine is needed: the compose file is read as YAML (and, where a compose binary is
installed, also checked by ``docker compose config -q`` / ``docker-compose config -q``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from feeds import formats
from worker.celery_app import app as celery_app
from worker.settings import Settings

ROOT = Path(__file__).resolve().parent.parent.parent
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
SYNDICATE_ROLES = ("worker", "webhooks", "poller", "beat", "web")
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
EXPORT_IN_APP = "/app/var/export"
_VAR = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def seconds(value: str) -> float:
    """A compose duration (``150s``, ``2m30s``, ``1h``) in seconds."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", value)
    assert parts and "".join(n + u for n, u in parts) == value, f"not a duration: {value!r}"
    return sum(float(n) * units[u] for n, u in parts)


def env_names() -> set[str]:
    """Every environment variable that worker/settings.py reads."""
    return {Settings.variable(name) for name in Settings.model_fields}


def test_redis_keeps_every_write_and_never_evicts() -> None:
    redis = SERVICES["redis"]
    assert redis["image"].startswith("redis:7")
    command = " ".join(redis["command"]) if isinstance(redis["command"], list) else redis["command"]
    assert re.search(r"--appendonly yes\b", command)
    assert re.search(r"--appendfsync everysec\b", command)
    assert re.search(r"--maxmemory-policy noeviction\b", command)
    assert any(str(v).endswith(":/data") for v in redis["volumes"])
    volume = next(str(v).split(":")[0] for v in redis["volumes"] if str(v).endswith(":/data"))
    assert volume in COMPOSE["volumes"]
    assert "redis-cli" in redis["healthcheck"]["test"] and "ping" in redis["healthcheck"]["test"]


def test_every_role_is_a_service_of_the_same_image() -> None:
    assert set(SERVICES) >= {"redis", *SYNDICATE_ROLES, "nginx", "flower"}
    images = {SERVICES[name]["image"] for name in SYNDICATE_ROLES}
    builds = {str(SERVICES[name]["build"]) for name in SYNDICATE_ROLES}
    assert len(images) == 1 and builds == {"."}
    commands = {name: SERVICES[name]["command"] for name in SYNDICATE_ROLES}
    assert commands["worker"] == ["worker", "-Q", "ingest,publish"]
    assert commands["webhooks"][:3] == ["worker", "-Q", "webhooks"]
    assert "-c" in commands["webhooks"] and "threads" in commands["webhooks"]
    assert commands["poller"][:3] == ["worker", "-Q", "poll"]  # upstreams never hold ingest or publish
    assert commands["beat"] == ["beat"]
    assert commands["web"] == ["serve", "--host", "0.0.0.0", "--port", "8000"]
    for name in SYNDICATE_ROLES:
        assert SERVICES[name]["depends_on"]["redis"]["condition"] == "service_healthy"
        assert SERVICES[name]["environment"]["REDIS_URL"] == "redis://redis:6379/0"


def test_health_checks_and_grace_periods() -> None:
    for name in ("redis", *SYNDICATE_ROLES):
        assert SERVICES[name].get("healthcheck", {}).get("test"), f"{name} has no health check"
    web_check = " ".join(SERVICES["web"]["healthcheck"]["test"])
    assert re.search(r"/(healthz|readyz)", web_check) and ":8000/" in web_check
    longest_task = float(celery_app.conf.task_time_limit)
    for name in ("worker", "webhooks", "poller"):
        assert seconds(SERVICES[name]["stop_grace_period"]) >= max(150.0, longest_task + 20)
        assert SERVICES[name].get("init") is True  # SIGTERM reaches Celery: warm shutdown


def _nginx_directives() -> list[str]:
    """deploy/nginx.conf as its directives, one string each (comments dropped)."""
    text = "\n".join(line.split("#", 1)[0] for line in NGINX_CONF.read_text(encoding="utf-8").splitlines())
    return [" ".join(d.split()) for d in re.split(r"[;{}]", text) if d.strip()]


def test_nginx_stands_in_front_of_web() -> None:
    nginx = SERVICES["nginx"]
    assert nginx["image"].startswith("nginx:")
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in nginx["volumes"]
    assert nginx["depends_on"]["web"]["condition"] == "service_healthy"
    assert nginx["ports"] == ["${PORT:-8000}:80"]
    assert nginx["healthcheck"]["test"]
    # web is reachable only through nginx: slow headers never reach uvicorn from outside
    assert "ports" not in SERVICES["web"] and SERVICES["web"]["expose"] == ["8000"]
    directives = _nginx_directives()
    assert "server web:8000" in directives and "listen 80" in directives
    assert SERVICES["web"]["command"][-2:] == ["--port", "8000"]


def test_nginx_serves_the_exported_feeds_from_the_shared_volume() -> None:
    directives = _nginx_directives()
    root = next(d.split()[1] for d in directives if d.startswith("root "))
    volume, target, mode = next(v for v in SERVICES["nginx"]["volumes"] if "export" in v).split(":")
    assert target == root and mode == "ro" and volume in COMPOSE["volumes"]
    assert f"{volume}:{EXPORT_IN_APP}" in SERVICES["worker"]["volumes"]  # where the worker writes
    assert "./config:/app/config:ro" in SERVICES["worker"]["volumes"]
    assert "try_files $uri @web" in directives
    types = NGINX_CONF.read_text(encoding="utf-8").split("types {", 1)[1].split("}", 1)[0]
    for fmt in formats.all_formats():  # the Content-Type the app serves each format with
        media = f'"{fmt.media_type}"' if " " in fmt.media_type else fmt.media_type
        assert f"{media} {fmt.ext};" in types, fmt.name
    assert "gzip_static on" in directives and "if_modified_since before" in directives
    assert f"mkdir -p {EXPORT_IN_APP}" in (ROOT / "Dockerfile").read_text(encoding="utf-8")


def test_nginx_bounds_slow_and_greedy_clients() -> None:
    directives = {d.split()[0]: d.split()[1:] for d in _nginx_directives()}
    for timeout in ("client_header_timeout", "client_body_timeout", "send_timeout", "keepalive_timeout"):
        assert seconds(directives[timeout][0]) <= 60, timeout
    assert directives["client_max_body_size"] == ["5m"]  # SYNDICATE_MAX_BODY_BYTES
    assert Settings().max_body_bytes == 5 * 1024 * 1024
    assert "limit_conn" in directives and "limit_conn_zone" in directives
    assert directives["gzip"] == ["on"] and "application/rss+xml" in directives["gzip_types"]
    assert directives["proxy_request_buffering"] == ["on"]


def test_flower_is_optional() -> None:
    assert SERVICES["flower"]["profiles"] == ["flower"]
    for name, service in SERVICES.items():
        if name != "flower":
            assert "profiles" not in service, f"{name} would not start with a plain `up`"


def test_environment_lists_every_setting_with_its_default() -> None:
    env = SERVICES["web"]["environment"]
    assert set(env) >= env_names()
    # Substitute the ${VAR:-default} values as compose does with no .env: the settings load,
    # and each default is the one of worker/settings.py.
    resolved = {k: _VAR.sub(lambda m: m.group(2) or "", str(v)) for k, v in env.items()}
    from_compose = Settings.from_env(resolved)
    defaults = Settings()
    for field in Settings.model_fields:
        if field not in ("redis_url", "config_dir", "export_dir"):
            assert getattr(from_compose, field) == getattr(defaults, field), field
    assert str(from_compose.config_dir) == "/app/config"
    assert str(from_compose.export_dir) == EXPORT_IN_APP  # the volume nginx serves


def test_env_example_documents_every_setting() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    assigned = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    missing = env_names() - assigned
    assert not missing, f".env.example lacks {sorted(missing)}"
    used_in_compose = set(_VAR.findall((ROOT / "docker-compose.yml").read_text(encoding="utf-8")))
    assert {name for name, _ in used_in_compose} <= assigned
    assert "SYNDICATE_API_TOKEN=\n" in text  # never a real token in the example


def test_dockerfile_is_slim_non_root_and_runtime_only() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    froms = re.findall(r"^FROM (\S+)", text, flags=re.MULTILINE)
    assert froms and all(f.startswith("python:3.11-slim") for f in froms)
    final = text.rsplit("FROM ", 1)[1]
    assert re.search(r"^USER (?!root)\w+", final, flags=re.MULTILINE)
    assert 'ENTRYPOINT ["syndicate"]' in final
    assert "COPY config" in final
    assert "[dev]" not in text and "-e ." not in text
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", ".git", ".env", "tests"} <= set(ignored)


def _compose_binary() -> list[str] | None:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_compose_config_validates() -> None:
    binary = _compose_binary()
    if binary is None:
        pytest.skip("no docker compose / docker-compose on this machine; the YAML checks above still ran")
    for extra in ([], ["--profile", "flower"]):
        r = subprocess.run(
            [*binary, "-f", str(ROOT / "docker-compose.yml"), *extra, "config", "-q"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
        assert r.returncode == 0, r.stderr
