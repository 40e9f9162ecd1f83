"""The ``syndicate`` command line, run as a user runs it: a subprocess with the test's env."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.integration.test_poller import cli
from tests.support import ROOT, Api, Proc, Receiver, base_env, command_paths, free_port, wait_for
from worker.cli.main import app

SEED = ROOT / "tests" / "data" / "rferl-nato-afghan-pullout.txt"
TITLE = "NATO Chief Says Afghan Pullout Progressing In 'Orderly Way' Amid Continued Violence"


def test_help_on_every_command() -> None:
    env = base_env("redis://127.0.0.1:1/0")
    paths = command_paths()
    names = {" ".join(p) for p in paths}
    assert {"normalize", "poll", "sources", "status", "worker", "beat", "serve", "subscriptions add"} <= names
    top = cli(env, "--help")
    assert top.returncode == 0, top.stderr
    assert "syndicate" in top.stdout.lower() or "Usage" in top.stdout
    assert cli(env, "poll", "--help").returncode == 0
    runner = CliRunner()  # in-process for the rest: each subprocess costs a second of imports
    for path in paths:
        r = runner.invoke(app, [*path, "--help"], env=env)
        assert r.exit_code == 0, f"{' '.join(path)} --help: {r.output}"
        assert "Usage" in r.output, path
        if path != ["subscriptions"]:  # the group lists its commands; each command shows an example
            assert "Example" in r.output, f"{' '.join(path)} --help has no example"


def test_normalize_the_seed_and_refuse_bad_input(tmp_path: Path) -> None:
    env = base_env("redis://127.0.0.1:1/0")  # normalize needs no Redis: nothing answers there
    r = cli(env, "normalize", str(SEED), "--source", "rferl")
    assert r.returncode == 0, r.stderr
    article = json.loads(r.stdout)
    assert article["title"] == TITLE
    assert article["source"] == "rferl"

    bad = tmp_path / "bad.json"
    bad.write_text('{"title": "no body here"', encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n", encoding="utf-8")
    for path in (bad, empty, tmp_path / "missing.txt"):
        r = cli(env, "normalize", str(path))
        assert r.returncode == 2, (path, r.stdout)
        assert r.stdout == ""
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("syndicate: "), r.stderr
        assert path.name in lines[0]
    r = cli(env, "normalize", str(SEED), "--format", "pdf")
    assert r.returncode == 2 and "--format" in r.stderr


def test_status_shows_queues_workers_failing_subscriptions_and_dead_letters(
    stack: tuple[Api, Proc, Proc], env: dict[str, str], receiver: Receiver, tmp_path: Path
) -> None:
    api, _, _ = stack
    receiver.behaviour = lambda n, r: (500, {}, b"receiver down")
    sub = api.subscribe(receiver.url, "global")
    r = api.post_article(SEED.read_text(encoding="utf-8"), "text/plain", source="rferl")
    assert r.status_code == 202, r.text
    bad = tmp_path / "bad.json"
    bad.write_text('{"title": "t", "body_html": ""}', encoding="utf-8")
    ingest = cli(env, "ingest", str(bad))
    assert ingest.returncode == 1 and "bad.json" in ingest.stderr

    def status() -> dict[str, object]:
        out = cli(env, "status", "--json")
        assert out.returncode == 0, out.stderr
        data: dict[str, object] = json.loads(out.stdout)
        return data

    data = wait_for(
        lambda: (d := status())["failing_subscriptions"] and d, 60, what="a failing subscription in status"
    )
    assert set(data) >= {"queues", "workers", "failing_subscriptions", "dead_letters", "backlog"}
    assert set(data["queues"]) == {"ingest", "publish", "webhooks", "poll"}  # type: ignore[arg-type]
    workers = data["workers"]
    assert isinstance(workers, dict) and workers
    assert any("ingest" in (w["queues"] or []) for w in workers.values())
    failing = data["failing_subscriptions"]
    assert isinstance(failing, list) and failing[0]["id"] == sub["id"]
    assert failing[0]["failing_since"]
    assert data["dead_letters"] == 1

    table = cli(env, "status")
    assert table.returncode == 0, table.stderr
    assert "ingest" in table.stdout and "webhooks" in table.stdout
    assert sub["id"] in table.stdout and "failing" in table.stdout
    assert "dead letters: 1" in table.stdout
    assert next(iter(workers)) in table.stdout

    letters = cli(env, "dead-letters", "--json")
    assert letters.returncode == 0 and "bad.json" in json.loads(letters.stdout)[0]["reason"]


def test_status_without_redis_says_so_in_one_line() -> None:
    env = base_env(f"redis://127.0.0.1:{free_port()}/0")
    r = cli(env, "status")
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Redis" in lines[0], r.stderr


@pytest.mark.parametrize("command", [["sources"], ["poll"]])
def test_sources_and_poll_with_no_sources_configured(env: dict[str, str], command: list[str]) -> None:
    r = cli(env, *command)
    assert r.returncode == 0, r.stderr
    assert "no sources in" in (r.stdout + r.stderr)


@pytest.mark.parametrize("role", ["worker", "beat", "serve", "up"])
def test_a_broken_config_stops_every_role_with_one_line(role: str, tmp_path: Path) -> None:
    for f in (ROOT / "config").glob("*.yaml"):
        (tmp_path / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    audiences = tmp_path / "audiences.yaml"
    text = audiences.read_text(encoding="utf-8")
    assert "UA-65]" in text
    audiences.write_text(text.replace("UA-65]", "UA-99]"), encoding="utf-8")
    line = next(n for n, s in enumerate(text.splitlines(), 1) if "UA-65]" in s)
    env = base_env(f"redis://127.0.0.1:{free_port()}/0", SYNDICATE_CONFIG_DIR=str(tmp_path))
    r = cli(env, role, timeout=60)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert f"audiences.yaml:{line}:" in lines[0] and "UA-99" in lines[0]


def test_ingest_of_many_files_normalizes_on_every_core_and_keeps_their_order(
    env: dict[str, str], redis_server, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from tests.bench.scenarios import cms_article
    from worker.cli.bulk import PARALLEL_FROM
    from worker.config import load_config
    from worker.models import RawInput
    from worker.normalize import normalize

    folder = tmp_path / "many"
    folder.mkdir()
    n = PARALLEL_FROM + 6  # enough for the parallel path
    for i in range(n):
        (folder / f"{i:03d}.json").write_text(json.dumps(cms_article(i, "cli")), encoding="utf-8")
    (folder / "040-bad.json").write_text('{"title": "t", "body_html": ""}', encoding="utf-8")
    out = cli(env, "ingest", str(folder))
    assert out.returncode == 1
    assert [line for line in out.stderr.splitlines() if line.startswith("syndicate: ")] == [
        line for line in out.stderr.splitlines() if "040-bad.json" in line
    ]
    config = load_config(ROOT / "config")
    expected = [
        normalize(
            RawInput(format="json", body=json.dumps(cms_article(i, "cli"))),
            config.notices,
            config.publishers,
            received_at=datetime.now(UTC),
        ).id
        for i in range(n)
    ]
    assert out.stdout.split() == expected  # file order, the bad one left out
    r = redis_server.client()
    # Stored before printed: committed straight from the normalizer (no worker runs here).
    assert all(r.hexists(f"syn:art:{aid}", "json") for aid in expected)
    assert not r.keys("syn:staged:*")
