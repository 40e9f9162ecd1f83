"""Real parts for integration tests: redis-server, Celery workers, uvicorn, webhook receivers.

Everything listens on 127.0.0.1 only. Processes are started in their own process group so a
test can kill a worker's whole group with SIGKILL, as an operator's OOM killer would.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import redis
import requests

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "test-token-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(
    predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1, what: str = ""
) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except Exception as exc:  # the thing waited for is not up yet
            last = exc
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}: last={last!r}")


@dataclass
class RedisServer:
    port: int
    directory: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--save",
                "",
                "--maxmemory-policy",
                "noeviction",
            ],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for(
            lambda: redis.Redis(port=self.port, socket_connect_timeout=0.5).ping(), 10, what="redis-server"
        )

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port)


def base_env(redis_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    env.update(
        {
            "REDIS_URL": redis_url,
            "SYNDICATE_API_TOKEN": TOKEN,
            "SYNDICATE_CONFIG_DIR": str(ROOT / "config"),
            "SYNDICATE_WEBHOOK_ALLOW_PRIVATE": "1",
            "SYNDICATE_WEBHOOK_RETRY_SCHEDULE": "0.5,0.5,0.5,0.5",
            "SYNDICATE_WEBHOOK_TIMEOUT": "3",
            "SYNDICATE_REDELIVER_AFTER": "3",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


@dataclass
class Proc:
    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        fh = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "worker.cli", *self.args],
            env=self.env,
            cwd=ROOT,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)

    def stop(self, timeout: float = 20) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def tail(self, n: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])


def run_cli(env: dict[str, str], *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """``syndicate ARGS...`` run to the end; wide output so tables do not wrap."""
    return subprocess.run(
        [sys.executable, "-m", "worker.cli", *args],
        env={**env, "COLUMNS": "250"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_worker(
    env: dict[str, str],
    log: Path,
    queues: str = "ingest,publish,webhooks",
    concurrency: int = 2,
    pool: str = "auto",
) -> Proc:
    return Proc("worker", ["worker", "-Q", queues, "-c", str(concurrency), "--pool", pool], env, log).start()


def start_web(env: dict[str, str], log: Path, port: int) -> Proc:
    p = Proc("web", ["serve", "--host", "127.0.0.1", "--port", str(port)], env, log).start()
    wait_for(lambda: requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok, 30, what="web server")
    return p


def serve_in_thread(handler: type[BaseHTTPRequestHandler], port: int = 0) -> ThreadingHTTPServer:
    """A threaded HTTP server on 127.0.0.1 (``port`` 0: a free one), serving in a daemon thread."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def stop_server(server: ThreadingHTTPServer | None) -> None:
    if server is not None:
        server.shutdown()
        server.server_close()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    path: str

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1; ``behaviour(n, request)`` returns (status, headers, body)."""

    behaviour: Callable[[int, Received], tuple[int, dict[str, str], bytes]] = lambda n, r: (200, {}, b"ok")
    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def start(self, port: int = 0) -> Receiver:
        """Listen on ``port`` (0: a free one); a stopped receiver may start again on its old port."""
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                if len(body) < length:  # the sender died mid-body (a killed worker): not a delivery
                    self.close_connection = True
                    return
                rec = Received({k.lower(): v for k, v in self.headers.items()}, body, self.path)
                with outer.lock:
                    outer.received.append(rec)
                    n = len(outer.received)
                status, headers, payload = outer.behaviour(n, rec)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = serve_in_thread(Handler, port)
        return self

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.server_address[1])

    def stop(self) -> None:
        stop_server(self.server)

    def webhook_ids(self) -> dict[str, set[str]]:
        """Article id -> the distinct ``webhook-id`` headers received for it."""
        with self.lock:
            received = list(self.received)
        out: dict[str, set[str]] = {}
        for rec in received:
            out.setdefault(rec.json()["data"]["article"]["id"], set()).add(rec.headers["webhook-id"])
        return out


class Api:
    """A small client for the HTTP API under test."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.auth = {"Authorization": f"Bearer {TOKEN}"}

    def get(self, path: str, **kw: Any) -> requests.Response:
        return requests.get(self.base + path, timeout=10, **kw)

    def post_article(self, body: bytes | str, content_type: str, **params: str) -> requests.Response:
        data = body.encode() if isinstance(body, str) else body
        return requests.post(
            self.base + "/articles",
            data=data,
            params=params,
            timeout=30,
            headers={**self.auth, "Content-Type": content_type},
        )

    def subscribe(self, url: str, audience: str, **extra: Any) -> dict[str, Any]:
        r = requests.post(
            self.base + "/subscriptions",
            json={"url": url, "audience": audience, **extra},
            headers=self.auth,
            timeout=10,
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    def article(self, aid: str) -> dict[str, Any]:
        return dict(requests.get(f"{self.base}/articles/{aid}", headers=self.auth, timeout=10).json())

    def wait_published(self, aid: str, timeout: float = 30) -> dict[str, Any]:
        return dict(
            wait_for(
                lambda: (a := self.article(aid))["status"] in ("published", "withdrawn") and a,
                timeout,
                what=f"article {aid} published",
            )
        )


class Dripper:
    """A hostile upstream on 127.0.0.1: answers ``head`` at once, then one byte every ``every``
    seconds for as long as the client listens (or until ``stop``). Counts accepted connections."""

    def __init__(self, head: bytes, every: float = 2.0) -> None:
        self.head, self.every = head, every
        self.accepted = 0
        self.stopping = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._serve, daemon=True).start()

    def url(self, path: str = "/feed.xml") -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}{path}"

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(self.head)
                while not self.stopping.wait(self.every):
                    conn.sendall(b" ")
            except OSError:
                return

    def stop(self) -> None:
        self.stopping.set()
        self.listener.close()


def command_paths() -> list[list[str]]:
    """Every command and sub-command of the ``syndicate`` app, as argument lists."""
    import typer.main

    from worker.cli.main import app

    group = typer.main.get_command(app)
    paths: list[list[str]] = []

    def walk(cmd: object, prefix: list[str]) -> None:
        for name, sub in getattr(cmd, "commands", {}).items():
            paths.append([*prefix, name])
            walk(sub, [*prefix, name])

    walk(group, [])
    return paths


_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[!#-;=?-\[\]_a-z~%]*$")  # RFC 3986 characters only
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$")


def ninjs_schema_path() -> Path:
    """IPTC's ninjs 3.1 schema (CC BY 4.0): the shared copy beside the repository, else the copy
    kept with the tests (``tests/data/ninjs/schema/``)."""
    name = "ninjs-schema_3.1.json"
    shared = ROOT.parent / "shared" / "schemas" / name
    return shared if shared.exists() else ROOT / "tests" / "data" / "ninjs" / "schema" / name


def ninjs_errors(doc: Any) -> list[str]:
    """Every way ``doc`` fails IPTC's ninjs 3.1 schema, formats (``uri``, ``date-time``) checked too."""
    import jsonschema

    checker = jsonschema.FormatChecker(formats=())
    checker.checks("uri")(lambda v: not isinstance(v, str) or bool(_URI.match(v)))
    checker.checks("date-time")(lambda v: not isinstance(v, str) or bool(_DATE_TIME.match(v)))
    schema = json.loads(ninjs_schema_path().read_text("utf-8"))
    validator = jsonschema.Draft202012Validator(schema, format_checker=checker)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]
