"""A newcomer's first hour, the pure parts: settings names, the kept token, the API's own
description and docs page, the beat scheduler that sends no poll without sources."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from worker.cli.local import api_token
from worker.runtime import Runtime
from worker.settings import PACKAGED_CONFIG, Settings
from worker.web.app import create_app


class NoNudge:
    def ingest(self, ids: list[str]) -> None: ...
    def publish(self) -> None: ...
    def deliver(self, ids: list[str]) -> None: ...
    def poll(self, ids: list[str]) -> None: ...


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(Runtime.build(Settings()), nudger=NoNudge()))


def test_allow_private_targets_new_name_and_old_alias() -> None:
    assert Settings.from_env({"SYNDICATE_ALLOW_PRIVATE_TARGETS": "1"}).webhook_allow_private
    assert Settings.from_env({"SYNDICATE_WEBHOOK_ALLOW_PRIVATE": "1"}).webhook_allow_private
    both = {"SYNDICATE_ALLOW_PRIVATE_TARGETS": "0", "SYNDICATE_WEBHOOK_ALLOW_PRIVATE": "1"}
    assert Settings.from_env(both).webhook_allow_private  # either name at 1 allows
    assert not Settings.from_env({}).webhook_allow_private


def test_config_dir_falls_back_to_the_packaged_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    s = Settings.from_env({})
    assert s.config_dir == PACKAGED_CONFIG and (s.config_dir / "audiences.yaml").is_file()
    assert "shipped with syndicate" in s.config_where() and "SYNDICATE_CONFIG_DIR" in s.config_where()
    chosen = Settings.from_env({"SYNDICATE_CONFIG_DIR": "elsewhere"})
    assert chosen.config_dir == Path("elsewhere") and "from SYNDICATE_CONFIG_DIR" in chosen.config_where()


def test_api_token_is_kept_private_and_stable(tmp_path: Path) -> None:
    token, path, created = api_token(tmp_path / "var")
    assert created and len(token) >= 24 and path == tmp_path / "var" / "api-token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again, _, created_again = api_token(tmp_path / "var")
    assert again == token and not created_again


def test_openapi_declares_the_bearer_scheme_per_route(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    schemes = doc["components"]["securitySchemes"]
    (name,) = [k for k, v in schemes.items() if v == {**v, "type": "http", "scheme": "bearer"}]
    paths = doc["paths"]
    for path, method in [
        ("/articles", "post"),
        ("/articles/{article_id}", "get"),
        ("/subscriptions", "post"),
        ("/subscriptions/{sub_id}", "delete"),
        ("/deliveries/{delivery_id}/replay", "post"),
    ]:
        assert paths[path][method].get("security") == [{name: []}], (path, method)
    for path in ("/healthz", "/feeds/{audience}/{name}"):
        assert "security" not in paths[path]["get"], path


def test_docs_page_loads_nothing_from_outside(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    refs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert refs and all(r.startswith("/") for r in refs), refs
    assert "cdn" not in page.text.lower()
    for ref in refs:
        asset = client.get(ref)
        assert asset.status_code == 200 and len(asset.content) > 500, ref
    assert client.get("/docs/assets/..%2Fpyproject.toml").status_code == 404


def test_beat_sends_no_poll_tick_without_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    from celery.beat import PersistentScheduler

    from worker import beat

    sent: list[str] = []

    def record(self: object, entry: Entry, producer: object = None) -> None:
        sent.append(entry.task)

    monkeypatch.setattr(PersistentScheduler, "apply_entry", record)

    class Entry:
        def __init__(self, task: str) -> None:
            self.task = task

    scheduler = beat.SourcesAwareScheduler.__new__(beat.SourcesAwareScheduler)
    monkeypatch.setattr(beat, "has_sources", lambda: False)
    scheduler.apply_entry(Entry(beat.POLL_TASK))
    scheduler.apply_entry(Entry("something.else"))
    assert sent == ["something.else"]
    monkeypatch.setattr(beat, "has_sources", lambda: True)
    scheduler.apply_entry(Entry(beat.POLL_TASK))
    assert sent == ["something.else", beat.POLL_TASK]
