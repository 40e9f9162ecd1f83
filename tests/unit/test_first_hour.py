"""A newcomer's first hour, the pure parts: settings names, the kept token, the API's own
description and docs page, the beat scheduler that sends no poll without sources."""

from __future__ import annotations

import os
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
    def revisit(self, ids: list[str]) -> None: ...


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


PAGE_TEXT = (
    "<html><body><article><h1>Water Deal Signed</h1><p>Kyrgyzstan and Tajikistan signed an "
    "agreement on sharing water from border rivers on Monday.</p><p>The deal follows clashes over "
    "water and land along the disputed frontier, officials said.</p></article></body></html>"
)


def test_no_stated_date_falls_back_to_the_time_received_outside_identity() -> None:
    from datetime import UTC, datetime

    from worker.models import RawInput
    from worker.normalize import normalize

    raw = RawInput(format="html", body=PAGE_TEXT, source="rferl")
    t1, t2 = datetime(2026, 12, 1, 10, tzinfo=UTC), datetime(2026, 12, 1, 11, tzinfo=UTC)
    a, b = normalize(raw, received_at=t1), normalize(raw, received_at=t2)
    assert a.published_at == t1 and b.published_at == t2
    assert a.id == b.id and a.content_hash == b.content_hash
    edited = normalize(
        raw.model_copy(update={"body": PAGE_TEXT.replace("Monday", "Tuesday")}), received_at=t1
    )
    assert edited.id != a.id  # identity from the content when there is neither guid nor URL
    stated = normalize(raw.model_copy(update={"published_at": "2021-06-01T12:00:00Z"}), received_at=t1)
    assert stated.published_at == datetime(2021, 6, 1, 12, tzinfo=UTC)


def test_a_repeat_received_later_changes_nothing() -> None:
    from datetime import UTC, datetime

    from worker.config import load_config
    from worker.ingest import plan_ingest
    from worker.models import RawInput, StoredArticle
    from worker.normalize import normalize

    config = load_config(PACKAGED_CONFIG)
    raw = RawInput(format="html", body=PAGE_TEXT, source="rferl")
    t1, t2 = datetime(2026, 12, 1, 10, tzinfo=UTC), datetime(2026, 12, 1, 11, tzinfo=UTC)
    kw = {
        "audiences": config.audiences,
        "notices": config.notices,
        "subscriptions": {},
        "payload_cap": 1 << 18,
    }
    first = plan_ingest(normalize(raw, received_at=t1), None, at=t1, **kw)
    assert first is not None
    stored = StoredArticle(article=first.article, version=1, status="published", audiences=first.audiences)
    assert plan_ingest(normalize(raw, received_at=t2), stored, at=t2, **kw) is None


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF files"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG images"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG images"),
        (b"GIF89a\x01\x00", "GIF images"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "WebP images"),
        (b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml...word/document.xml", "Word documents (.docx)"),
        (b"PK\x03\x04\x14\x00\x00\x00hello.txt", "ZIP archives"),
        (b"\x1f\x8b\x08\x00", "gzip archives"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00", "Office documents (.doc, .xls, .ppt)"),
        (b"BM\x36\x00\x0c\x00\x00\x00\x00\x00\x36\x00\x00\x00", "BMP images"),
    ],
)
def test_non_article_files_are_named_by_their_magic_bytes(head: bytes, kind: str) -> None:
    from worker.normalize import NormalizeError
    from worker.normalize.magic import decode_input

    with pytest.raises(NormalizeError) as exc:
        decode_input(head + b"\x00" * 300)
    assert str(exc.value) == f"{kind} are not supported: send the article's text, HTML or CMS JSON"


def test_text_that_merely_starts_like_a_file_is_text() -> None:
    from worker.normalize.magic import decode_input, non_article_kind

    for text in ("BMW sales rise in Kazakhstan\n- By RFE/RL\n", "PK-12 schools reopen", '{"title": 1}'):
        assert non_article_kind(text.encode()) is None
        assert decode_input(text.encode()) == text
    assert decode_input("\ufeffHeadline".encode()) == "Headline"


def test_config_reload_logs_a_revert_and_no_reindex_hint_for_a_title(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging
    import shutil

    from worker.config import load_config
    from worker.config_reload import LiveConfig

    folder = tmp_path / "config"
    shutil.copytree(PACKAGED_CONFIG, folder)
    audiences = folder / "audiences.yaml"
    good = audiences.read_text()

    def edit(text: str) -> None:
        audiences.write_text(text)
        st = audiences.stat()
        os.utime(audiences, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))

    live = LiveConfig(folder, load_config(folder), check_every=0)
    with caplog.at_level(logging.INFO, logger="syndicate.config"):
        edit(good + "\n  xx:\n    language: en\n    regions: [UA-99]\n")
        live.current()
        caplog.clear()
        edit(good)  # reverted: the config in force again
        live.current()
        assert [r.getMessage() for r in caplog.records if "config reloaded" in r.getMessage()], caplog.text
        caplog.clear()
        old_title = "title: Russia and Russia-controlled Ukraine"
        assert old_title in good
        edit(good.replace(old_title, "title: Russia (renamed)", 1))
        assert live.current().audience("ru").title == "Russia (renamed)"  # type: ignore[union-attr]
        assert "config reloaded" in caplog.text and "reindex" not in caplog.text


def test_help_shows_plain_metavars() -> None:
    from typer.testing import CliRunner

    from tests.support import command_paths
    from worker.cli.main import app

    runner = CliRunner()
    paths = command_paths()
    for path in paths:
        out = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "120"}).output
        assert "<bool>" not in out and "<str>" not in out and "<int>" not in out, (path, out)
        assert not re.search(r"Usage: .*\{", out), (path, out)
    normalize = runner.invoke(app, ["normalize", "--help"], env={"COLUMNS": "120"}).output
    assert "Usage: syndicate normalize [OPTIONS] PATH" in normalize and "--format" in normalize
    assert re.search(r"--format\s+FORMAT", normalize), normalize


def test_a_browser_gets_xml_feeds_as_xml_with_the_stylesheet() -> None:
    from feeds import formats
    from feeds.serve import FeedBytes, reply
    from feeds.xmlfeeds import STYLESHEET_PATH, with_stylesheet

    doc = with_stylesheet(b"<?xml version='1.0' encoding='UTF-8'?>\n<rss/>")
    assert doc.splitlines()[1] == f'<?xml-stylesheet type="text/xsl" href="{STYLESHEET_PATH}"?>'.encode()
    feed = FeedBytes(body=doc, etag='"x"', last_modified="Tue, 01 Dec 2026 00:00:00 GMT", last_modified_ts=0)
    browser = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    assert reply(browser, feed, "rss").headers["Content-Type"] == "application/xml; charset=utf-8"
    assert reply({"accept": "*/*"}, feed, "rss").headers["Content-Type"] == formats.get("rss").media_type
    assert reply(browser, feed, "json").headers["Content-Type"] == formats.get("json").media_type
    assert "Accept" in reply({}, feed, "atom").headers["Vary"]


def test_the_stylesheet_is_served(client: TestClient) -> None:
    from feeds.xmlfeeds import STYLESHEET_PATH

    r = client.get(STYLESHEET_PATH)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/xsl")
    assert b"xsl:stylesheet" in r.content
