"""A config edit reaches running workers and the web server without a restart."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.integration.test_end_to_end import TITLE, post_seed
from tests.support import (
    ROOT,
    Api,
    Receiver,
    RedisServer,
    base_env,
    free_port,
    run_cli,
    start_web,
    start_worker,
    wait_for,
)
from worker.config_reload import CHECK_EVERY

KZ = "\n  kz:\n    language: ru\n    regions: [KZ]\n    title: Kazakhstan\n"


@dataclass
class Running:
    api: Api
    env: dict[str, str]
    config: Path


@pytest.fixture
def running(redis_server: RedisServer, tmp_path: Path) -> Iterator[Running]:
    """A worker and the server on a config folder of their own, which the test edits."""
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    port = free_port()
    env = base_env(
        redis_server.url, SYNDICATE_CONFIG_DIR=str(config), SYNDICATE_BASE_URL=f"http://127.0.0.1:{port}"
    )
    worker = start_worker(env, tmp_path / "worker.log")
    web = start_web(env, tmp_path / "web.log", port)
    try:
        yield Running(Api(port), env, config)
    finally:
        web.stop()
        worker.stop()


def test_an_audience_added_while_running(running: Running, tmp_path: Path) -> None:
    api, audiences = running.api, running.config / "audiences.yaml"
    api.wait_published(post_seed(api))
    assert api.get("/feeds/kz/all.rss").status_code == 404  # no such audience yet
    good = audiences.read_text()
    audiences.write_text(good + KZ)
    wait_for(lambda: api.get("/feeds/kz/all.rss").ok, 30, 0.2, "the kz feed")
    # Articles ingested from now on reach the new audience (stored ones: test_reindex_...).
    doc = {"guid": "after-kz", "source": "rferl", "title": "Steppe news", "language": "en",
           "published_at": "2024-01-01T00:00:00Z", "body_html": "<p>From the steppe.</p>"}  # fmt: skip
    assert api.post_article(json.dumps(doc), "application/json").status_code == 202
    kz = wait_for(lambda: (r := api.get("/feeds/kz/all.rss")).ok and "Steppe news" in r.text and r, 30, 0.2)
    assert TITLE not in kz.text
    by_location = requests.get(api.base + "/feeds/all.rss", headers={"CF-IPCountry": "KZ"}, timeout=5)
    assert by_location.content == kz.content  # the web server routes KZ readers there too
    # A broken edit: everything keeps running on the configuration in force, and says why.
    audiences.write_text(good + KZ + "\n  xx:\n    language: en\n    regions: [UA-99]\n")
    wait_for(  # the web server looks at the files when a request needs the config
        lambda: api.get("/feeds/kz/all.rss").ok and "UA-99" in (tmp_path / "web.log").read_text(),
        15,
        0.2,
        "the web server's error line",
    )
    wait_for(lambda: "UA-99" in (tmp_path / "worker.log").read_text(), 15, 0.2, "the worker's error line")
    assert api.get("/feeds/kz/all.rss").ok and api.get("/readyz").ok


def test_reindex_applies_a_moved_region_to_stored_articles(running: Running, receiver: Receiver) -> None:
    """Kherson (UA-65) is first nobody's region (so the default audience's), then ru's. An article
    restricted there moves from ru to global once `syndicate reindex` has run."""
    api, audiences = running.api, running.config / "audiences.yaml"
    full = audiences.read_text()
    assert ", UA-65]" in full
    audiences.write_text(full.replace(", UA-65]", "]"))
    time.sleep(CHECK_EVERY + 0.5)  # every process has looked at the files since
    api.subscribe(receiver.url, "global")
    api.subscribe(receiver.url, "ru")
    doc = {"guid": "kherson-1", "source": "rferl", "title": "Kherson report", "language": "en",
           "published_at": "2024-01-01T00:00:00Z", "body_html": "<p>Report.</p>",
           "restricted_regions": ["UA-65"]}  # fmt: skip
    r = api.post_article(json.dumps(doc), "application/json")
    assert r.status_code == 202
    api.wait_published(r.json()["id"])
    wait_for(lambda: "Kherson report" in api.get("/feeds/ru/all.rss").text, 20)
    assert "Kherson report" not in api.get("/feeds/global/all.rss").text
    wait_for(lambda: len(receiver.received) == 1, 20)  # published, to ru
    audiences.write_text(full)  # UA-65 is ru's again
    done = run_cli(running.env, "reindex")
    assert done.returncode == 0 and "1 changed" in done.stderr, done.stderr
    wait_for(lambda: "Kherson report" in api.get("/feeds/global/all.rss").text, 20, 0.2, "in global")
    wait_for(lambda: "Kherson report" not in api.get("/feeds/ru/all.rss").text, 20, 0.2, "gone from ru")
    wait_for(lambda: len(receiver.received) == 3, 20)
    events = sorted((m.json()["type"], m.json()["data"]["audience"]) for m in receiver.received[1:])
    assert events == [("article.published", "global"), ("article.withdrawn", "ru")]
    again = run_cli(running.env, "reindex")
    assert again.returncode == 0 and "0 changed" in again.stderr
