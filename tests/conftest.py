"""Fixtures: unit tests need nothing; integration tests get real processes on 127.0.0.1."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import Api, Proc, Receiver, RedisServer, base_env, free_port, start_web, start_worker

DATA = Path(__file__).parent / "data"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def redis_binary() -> str:
    path = shutil.which("redis-server")
    if path is None:
        pytest.fail("redis-server is not installed: apt-get install redis-server, brew install redis")
    return path


@pytest.fixture
def redis_server(tmp_path: Path, redis_binary: str) -> Iterator[RedisServer]:
    server = RedisServer(free_port(), tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def env(redis_server: RedisServer, tmp_path: Path) -> dict[str, str]:
    return base_env(redis_server.url, SYNDICATE_EXPORT_DIR=str(tmp_path / "export"))


@pytest.fixture
def stack(env: dict[str, str], tmp_path: Path) -> Iterator[tuple[Api, Proc, Proc]]:
    """A worker on every queue plus the HTTP server, on a private Redis."""
    port = free_port()
    env["SYNDICATE_BASE_URL"] = f"http://127.0.0.1:{port}"
    worker = start_worker(env, tmp_path / "worker.log")
    web = start_web(env, tmp_path / "web.log", port)
    api = Api(port)
    try:
        yield api, worker, web
    finally:
        web.stop()
        worker.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()
