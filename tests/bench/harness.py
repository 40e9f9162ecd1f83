"""The bench's own parts: a private Redis, the worker stack, the HTTP server, process RSS.

The stack is what ``syndicate up`` runs on one host: a prefork worker (2 processes) on the
``ingest`` and ``publish`` queues and a threaded worker on ``webhooks``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tests.support import ROOT, Api, Proc, RedisServer, base_env, free_port, start_web, start_worker, wait_for
from worker.cli.supervise import WEBHOOK_PROCESSES  # as `syndicate up` runs them: one per core

WEBHOOK_THREADS = 16


def tree_pids(pid: int) -> list[int]:
    """``pid`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its descendants, in MiB."""
    total = 0
    for p in tree_pids(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by ``pid`` and its live descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in tree_pids(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


@dataclass
class Bench:
    """A private Redis and, on demand, the syndicate stack on it."""

    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bench-")))
    redis_server: RedisServer | None = None
    env: dict[str, str] = field(default_factory=dict)
    workers: list[Proc] = field(default_factory=list)
    web: Proc | None = None
    api: Api | None = None

    def start_redis(self) -> None:
        self.redis_server = RedisServer(free_port(), self.tmp / "redis")
        self.redis_server.start()
        port = free_port()
        self.env = base_env(
            self.redis_server.url,
            SYNDICATE_BASE_URL=f"http://127.0.0.1:{port}",
            SYNDICATE_REDELIVER_AFTER="15",  # the production default, not the tests' 3 s
            SYNDICATE_WEBHOOK_TIMEOUT="10",
        )
        self.env["BENCH_WEB_PORT"] = str(port)

    @property
    def redis(self) -> redis.Redis:
        assert self.redis_server is not None
        return self.redis_server.client()

    def flush(self) -> None:
        self.redis.flushdb()

    def start_stack(self) -> Api:
        self.workers = [
            start_worker(self.env, self.tmp / "worker.log", queues="ingest,publish", pool="prefork"),
            *(
                start_worker(
                    self.env,
                    self.tmp / f"webhooks-{i}.log",
                    queues="webhooks",
                    concurrency=WEBHOOK_THREADS,
                    pool="threads",
                )
                for i in range(WEBHOOK_PROCESSES)
            ),
        ]
        port = int(self.env["BENCH_WEB_PORT"])
        self.web = start_web(self.env, self.tmp / "web.log", port)
        self.api = Api(port)
        wait_for(lambda: self.api and self.api.get("/readyz").ok, 60, what="a ready worker")
        return self.api

    def stop_stack(self) -> None:
        for p in [*self.workers, *([self.web] if self.web else [])]:
            p.stop()
        self.workers, self.web, self.api = [], None, None

    def worker_cpu(self) -> float:
        return sum(cpu_seconds(w.proc.pid) for w in self.workers if w.proc)

    def worker_rss_mb(self) -> float:
        return sum(rss_mb(w.proc.pid) for w in self.workers if w.proc)

    def run_cli(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "worker.cli", *args],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=timeout,
            check=True,
        )

    def start_noop_worker(self, concurrency: int = 2) -> subprocess.Popen[bytes]:
        log = (self.tmp / "noop.log").open("ab")
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tests.bench.noop_app",
                "worker",
                "-P",
                "prefork",
                "-c",
                str(concurrency),
                "-Q",
                "bench-noop",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "WARNING",
            ],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def close(self) -> None:
        self.stop_stack()
        if self.redis_server:
            self.redis_server.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def stop_group(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


def timed_until(predicate: object, timeout: float, what: str) -> float:
    """Block until ``predicate()`` is truthy; returns the monotonic time it became so."""
    wait_for(predicate, timeout, interval=0.02, what=what)  # type: ignore[arg-type]
    return time.monotonic()
