"""``syndicate up``: start every role as a child process and stop them all cleanly."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import redis
import requests

from feeds import formats
from feeds.feedkey import FeedKey
from worker.settings import Settings

STOP_WITHIN = 25.0
# Webhooks processes (threads each): one per core, at most 4. A delivery costs about 0.4 ms of
# Python (sign, post, book-keep), so a fan-out to hundreds of subscribers is CPU-bound, and the
# threads of one process share one core (fan-out to 500 on 2 cores: 1.1-1.2x a bare loop of
# posts with one process, 1.46-1.54x with two, measured with make bench).
WEBHOOK_PROCESSES = max(1, min(4, os.cpu_count() or 1))
REDIS_HINT = (
    "redis-server is not installed: apt-get install redis-server, brew install redis, "
    "or docker compose up redis"
)


@dataclass
class Stack:
    env: dict[str, str]
    host: str
    port: int
    python: str
    # Each role's output goes to log_dir/ROLE.log; None (--verbose): to this terminal.
    log_dir: Path | None = None
    token_file: Path | None = None  # where the generated API token is kept, if it was generated
    children: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def _spawn(self, name: str, *args: str) -> None:
        out = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = (self.log_dir / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            [self.python, "-m", "worker.cli", *args],
            env=self.env,
            start_new_session=True,
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
        )
        if out is not None:
            out.close()  # the child holds its own copy
        self.children.append((name, proc))

    def _logs_hint(self) -> str:
        return f"see {self.log_dir}/" if self.log_dir else "see the logs above"

    def run(self, *, samples: bool) -> int:
        signal.signal(signal.SIGINT, lambda *_: self.stopping.set())
        signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
        settings = Settings.from_env(self.env)
        try:
            if not settings.redis_sentinels:  # with Sentinel, the operator runs Redis
                ensure_redis(settings.redis_url, self)
            started = time.monotonic()
            where = f" (logs in {self.log_dir}/)" if self.log_dir else ""
            say(f"starting worker, webhooks, beat and web{where}…")
            self._spawn("worker", "worker", "-Q", "ingest,publish", "-c", "2")
            for i in range(WEBHOOK_PROCESSES):
                self._spawn("webhooks" if i == 0 else f"webhooks-{i + 1}", "worker", "-Q", "webhooks")
            self._spawn("poller", "worker", "-Q", "poll", "-c", "2")
            self._spawn("beat", "beat")
            self._spawn("web", "serve", "--host", self.host, "--port", str(self.port))
            base = f"http://{self.host}:{self.port}"
            if not wait_ready(base, self.stopping, timeout=90):
                if not self.stopping.is_set():
                    print(
                        f"syndicate: the stack did not become ready within 90 s ({self._logs_hint()})",
                        file=sys.stderr,
                    )
                return self.stop(1)
            say(f"ready in {time.monotonic() - started:.0f} s")
            if samples:
                ingest_samples(self.env, base, self.stopping)
            print_summary(settings, base, self.token_file)
            while not self.stopping.is_set():
                for name, proc in self.children:
                    if proc.poll() is not None:
                        print(
                            f"syndicate: {name} exited with code {proc.returncode} ({self._logs_hint()}); "
                            "stopping",
                            file=sys.stderr,
                        )
                        return self.stop(1)
                self.stopping.wait(1.0)
            return self.stop(0)
        except SystemExit as exc:
            self.stop(1)
            return int(exc.code or 1)

    def stop(self, code: int) -> int:
        """Workers and server first (warm shutdown), Redis last; SIGKILL whatever outlives the deadline."""
        say("stopping…")
        deadline = time.monotonic() + STOP_WITHIN
        roles = [p for name, p in self.children if name != "redis"]
        databases = [p for name, p in self.children if name == "redis"]
        for group in (roles, databases):
            for proc in group:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in group:
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        say("stopped")
        return code


def ensure_redis(url: str, stack: Stack) -> None:
    """Redis at ``url``; start a private one (AOF on, data in var/redis/) if none answers locally."""
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        return
    except redis.RedisError:
        pass
    parsed = urlparse(url)
    if parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"syndicate: Redis at {url} does not answer, and it is not on this host")
    server = shutil.which("redis-server")
    if server is None:
        print(f"syndicate: {REDIS_HINT}", file=sys.stderr)
        raise SystemExit(1)
    data = Settings.from_env(stack.env).var_dir.absolute() / "redis"
    data.mkdir(parents=True, exist_ok=True)
    args = [
        server,
        "--port",
        str(parsed.port or 6379),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(data),
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--maxmemory-policy",
        "noeviction",
        "--save",
        "",
        "--protected-mode",
        "yes",
    ]
    stack.children.append(
        ("redis", subprocess.Popen(args, start_new_session=True, stdout=subprocess.DEVNULL))
    )
    for _ in range(50):
        try:
            redis.Redis.from_url(url, socket_connect_timeout=1).ping()
            say(f"started a private redis-server on port {parsed.port or 6379} (data in {data})")
            return
        except redis.RedisError:
            time.sleep(0.1)
    raise SystemExit("syndicate: the private redis-server did not start")


def wait_ready(base: str, stopping: threading.Event, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stopping.is_set():
        try:
            if requests.get(f"{base}/readyz", timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        stopping.wait(0.5)
    return False


def ingest_samples(env: dict[str, str], base: str, stopping: threading.Event) -> None:
    from worker.samples import sample_requests

    headers = {"Authorization": f"Bearer {env['SYNDICATE_API_TOKEN']}"}
    ids = []
    for content_type, params, body in sample_requests():
        r = requests.post(
            f"{base}/articles",
            params=params,
            data=body.encode(),
            headers={**headers, "Content-Type": content_type},
            timeout=30,
        )
        if r.status_code != 202:
            print(f"syndicate: sample article refused: {r.status_code} {r.text[:200]}", file=sys.stderr)
            continue
        ids.append(r.json()["id"])
    deadline = time.monotonic() + 60
    pending = set(ids)
    while pending and time.monotonic() < deadline and not stopping.is_set():
        for aid in list(pending):
            status = requests.get(f"{base}/articles/{aid}", headers=headers, timeout=5).json().get("status")
            if status in ("published", "withdrawn", "rejected"):
                pending.discard(aid)
        stopping.wait(0.3)
    say(f"{len(ids) - len(pending)} sample article(s) published")


def say(message: str) -> None:
    print(f"syndicate: {message}", flush=True)


def print_summary(settings: Settings, base: str, token_file: Path | None) -> None:
    """What a person needs next: feed URLs, the docs, the token to paste, how to stop."""
    from worker.config import load_config

    config = load_config(settings.config_dir)
    print("\nFeeds (open one in a browser, or subscribe with a feed reader):", flush=True)
    for audience in config.audiences:
        for fmt in formats.names():
            print(f"  {FeedKey(audience.id).url(base, fmt)}")
    print(f"\nAPI docs: {base}/docs   description: {base}/openapi.json")
    print(f"health: {base}/readyz   metrics: {base}/metrics")
    kept = f" (kept in {token_file}, the same on every start)" if token_file else ""
    print(f"\nAPI token{kept}; in another terminal:")
    print(f"  export SYNDICATE_API_TOKEN={settings.api_token}")
    if settings.webhook_allow_private:
        print("\nPrivate and loopback webhook targets are allowed (SYNDICATE_ALLOW_PRIVATE_TARGETS=1).")
    print("\nPress Ctrl-C to stop.", flush=True)
