"""A newcomer's first hour, on real parts: `syndicate up` from a folder that is not the
repository, its summary and kept token, a webhook to a receiver on this machine verified by
`syndicate receive`, and the messages that say what to do."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
from pathlib import Path

import requests

from tests.support import ROOT, base_env, free_port, wait_for

SEED = ROOT / "tests" / "data" / "rferl-nato-afghan-pullout.txt"


def newcomer_env(redis_url: str, **extra: str) -> dict[str, str]:
    """The environment of someone who set nothing: no token, no config dir, no private targets."""
    env = base_env(redis_url, **extra)
    for name in ("SYNDICATE_API_TOKEN", "SYNDICATE_CONFIG_DIR", "SYNDICATE_WEBHOOK_ALLOW_PRIVATE"):
        env.pop(name, None)
    env.update(extra)
    return env


def syndicate(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "worker.cli", *args],
        env={**env, "COLUMNS": "80"},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=90,
    )


def start(env: dict[str, str], cwd: Path, out: Path, *args: str) -> subprocess.Popen[bytes]:
    with out.open("ab") as fh:
        return subprocess.Popen(
            [sys.executable, "-m", "worker.cli", *args],
            env=env,
            cwd=cwd,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGINT) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(40)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_private_target_refusal_names_the_setting_and_the_workers(redis_server, tmp_path: Path) -> None:
    env = newcomer_env(redis_server.url)
    r = syndicate(env, ROOT, "subscriptions", "add", "http://127.0.0.1:18110/hook", "--audience", "ru")
    assert r.returncode == 2, r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "loopback" in lines[0] and "SYNDICATE_ALLOW_PRIVATE_TARGETS=1" in lines[0]
    assert "workers" in lines[0] and "make run ALLOW_PRIVATE=1" in lines[0]
    # the new name is read (the old one stays an alias)
    for name in ("SYNDICATE_ALLOW_PRIVATE_TARGETS", "SYNDICATE_WEBHOOK_ALLOW_PRIVATE"):
        allowed = {**env, name: "1"}
        r = syndicate(allowed, ROOT, "subscriptions", "add", "http://127.0.0.1:18110/h", "-a", "ru")
        assert r.returncode == 0, (name, r.stderr)


def test_commands_outside_the_repository_use_the_shipped_config(redis_server, tmp_path: Path) -> None:
    env = newcomer_env(redis_server.url)
    r = syndicate(env, tmp_path, "normalize", str(SEED), "--source", "rferl")
    assert r.returncode == 0, r.stderr
    r = syndicate(env, tmp_path, "status")
    assert r.returncode == 0, r.stderr
    assert "shipped with syndicate" in r.stdout and "SYNDICATE_CONFIG_DIR" in r.stdout
    assert "{" not in r.stdout  # no Python dict
    r = syndicate({**env, "SYNDICATE_CONFIG_DIR": "nowhere"}, tmp_path, "deliveries")
    assert r.returncode == 2
    line = r.stderr.strip()
    assert str(tmp_path / "nowhere") in line and "SYNDICATE_CONFIG_DIR" in line and "\n" not in line


def _wait_summary(out: Path, proc: subprocess.Popen[bytes], after: int = 0) -> str:
    def summary() -> str | None:
        assert proc.poll() is None, out.read_text(errors="replace")
        text = out.read_text(errors="replace")[after:]
        return text if "Press Ctrl-C" in text else None

    return str(wait_for(summary, 120, interval=0.3, what="syndicate up's summary"))


def test_up_calm_terminal_kept_token_and_a_verified_webhook_on_this_machine(
    redis_server, tmp_path: Path
) -> None:
    port, hook_port = free_port(), free_port()
    env = newcomer_env(redis_server.url, PORT=str(port))
    out = tmp_path / "up.out"
    up = start(env, tmp_path, out, "up", "--allow-private-targets")
    receive = None
    try:
        text = _wait_summary(out, up)
        token_file = tmp_path / "var" / "api-token"
        token = token_file.read_text().strip()
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert f"export SYNDICATE_API_TOKEN={token}\n" in text
        assert f"http://127.0.0.1:{port}/docs" in text
        # calm: a short human summary; banners, warnings and JSON logs are in var/log/
        for noise in ("SecurityWarning", "celery@", "-------------- ", '{"ts"', "superuser"):
            assert noise not in text, noise
        assert len(text.splitlines()) < 30, text
        assert (tmp_path / "var" / "log" / "worker.log").stat().st_size > 0

        # the README's walkthrough: subscribe, receive, post an article
        cli_env = {**env, "SYNDICATE_ALLOW_PRIVATE_TARGETS": "1"}
        hook = f"http://127.0.0.1:{hook_port}/hook"
        r = syndicate(cli_env, tmp_path, "subscriptions", "add", hook, "--audience", "ru")
        assert r.returncode == 0, r.stderr
        secret = re.search(r'"secret": "(whsec_[^"]+)"', r.stdout)
        assert secret, r.stdout
        got = tmp_path / "receive.out"
        receive = start(env, tmp_path, got, "receive", "--port", str(hook_port), "--secret", secret.group(1))
        posted = requests.post(
            f"http://127.0.0.1:{port}/articles",
            params={
                "source": "rferl",
                "url": "https://www.rferl.org/a/x.html",
                "published_at": "2021-06-01T12:00:00Z",
            },
            headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"},
            data=SEED.read_bytes(),
            timeout=10,
        )
        assert posted.status_code == 202, posted.text
        line = wait_for(
            lambda: next((x for x in got.read_text().splitlines() if "article.published" in x), None),
            60,
            what="the webhook at syndicate receive",
        )
        assert " 204 verified " in line and "audience=ru" in line, line
        beat_log = (tmp_path / "var" / "log" / "beat.log").read_text()
        assert "Sending due task" not in beat_log  # no sources: no polls scheduled
    finally:
        if receive is not None:
            stop(receive, signal.SIGTERM)
        stop(up)
    assert up.returncode == 0, out.read_text()[-2000:]

    # the token survives a restart
    size = len(out.read_text(errors="replace"))
    up = start(env, tmp_path, out, "up", "--no-samples")
    try:
        again = _wait_summary(out, up, after=size)
        assert f"export SYNDICATE_API_TOKEN={token}\n" in again
    finally:
        stop(up)


PAGE = (
    "<html><head><title>Water Deal Signed</title></head><body><article><h1>Water Deal Signed</h1>"
    "<p>Kyrgyzstan and Tajikistan signed an agreement on sharing water from border rivers on Monday.</p>"
    "<p>The deal follows clashes over water and land along the disputed frontier, officials said.</p>"
    "</article></body></html>"
)


def test_a_post_without_url_or_date_is_dated_when_received_and_a_repeat_is_the_same(
    stack, env: dict[str, str]
) -> None:
    from datetime import UTC, datetime

    api, _, _ = stack
    before = datetime.now(UTC).replace(microsecond=0)
    first = api.post_article(PAGE, "text/html", source="rferl")
    assert first.status_code == 202, first.text
    aid = first.json()["id"]
    published = api.wait_published(aid)["article"]
    when = datetime.fromisoformat(published["published_at"].replace("Z", "+00:00"))
    assert before <= when <= datetime.now(UTC)
    again = api.post_article(PAGE, "text/html", source="rferl")
    assert again.json()["id"] == aid  # content-derived identity: the same article
    assert api.wait_published(aid)["article"]["published_at"] == published["published_at"]
    feed = wait_for(lambda: (r := api.get("/feeds/global/all.atom")).ok and aid in r.text and r.text, 30)
    assert "1970" not in feed
    assert feed.count("Water Deal Signed</title>") == 1, feed


PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + bytes(range(256)) * 4
PDF_SAYS = "PDF files are not supported: send the article's text, HTML or CMS JSON"


def test_a_pdf_gets_one_clear_line_from_normalize_ingest_and_the_api(
    stack, env: dict[str, str], tmp_path: Path
) -> None:
    api, _, _ = stack
    pdf = tmp_path / "story.pdf"
    pdf.write_bytes(PDF)
    for command in (["normalize", str(pdf)], ["ingest", str(pdf)]):
        r = syndicate(env, ROOT, *command)  # not a terminal, 80 columns
        assert r.returncode in (1, 2), (command, r.stdout)
        assert r.stderr == f"syndicate: {pdf}: {PDF_SAYS}\n", (command, r.stderr)
    answer = api.post_article(PDF, "text/plain", source="rferl")
    assert answer.status_code == 415, answer.text
    assert answer.json()["detail"] == PDF_SAYS


def test_subscribing_to_a_section_no_article_has_warns(redis_server) -> None:
    env = newcomer_env(redis_server.url, SYNDICATE_ALLOW_PRIVATE_TARGETS="1")
    hook = "http://127.0.0.1:18110/hook"
    r = syndicate(env, ROOT, "subscriptions", "add", hook, "-a", "ru", "--section", "nosuchsection")
    assert r.returncode == 0, r.stderr
    start = "syndicate: warning: --section 'nosuchsection'"
    warned = [x for x in r.stderr.splitlines() if x.startswith(start)]
    assert len(warned) == 1 and "known: none yet" in warned[0], r.stderr
    assert '"secret"' in r.stdout


def test_deliveries_never_cut_ids_at_80_columns(stack, env: dict[str, str], receiver) -> None:
    api, _, _ = stack
    sub = api.subscribe(receiver.url, "global")
    r = api.post_article(PAGE, "text/html", source="rferl", url="https://www.rferl.org/a/water.html")
    assert r.status_code == 202, r.text
    wait_for(lambda: receiver.received, 60, what="a delivery")
    shown = syndicate(env, ROOT, "deliveries")  # COLUMNS=80, not a terminal
    assert shown.returncode == 0, shown.stderr
    rows = api.get(f"/subscriptions/{sub['id']}/deliveries", headers=api.auth).json()["deliveries"]
    assert rows
    for d in rows:
        assert d["id"] in shown.stdout, shown.stdout
    assert sub["id"] in shown.stdout, shown.stdout
