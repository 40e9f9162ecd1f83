"""Local HTTP peers for the benchmarks: a counting webhook receiver and nginx.

The receiver keeps connections alive (HTTP/1.1) and records, per request, the arrival time and
the article id of the event, so a scenario can time "until the last webhook is received" and
per-article latency. nginx answers webhooks with a fixed 200 and serves feed files, as the bare
baseline the project is compared with.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from tests.support import free_port, serve_in_thread, stop_server, wait_for


@dataclass
class CountingReceiver:
    """Answers 200 to every POST; ``arrivals`` holds (monotonic time, article id)."""

    arrivals: list[tuple[float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def count(self) -> int:
        with self.lock:
            return len(self.arrivals)

    def unique(self) -> int:
        """Distinct articles received (a redelivered event counts once)."""
        with self.lock:
            return len({aid for _, aid in self.arrivals})

    def reset(self) -> None:
        with self.lock:
            self.arrivals.clear()

    def start(self) -> CountingReceiver:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle on, a keep-alive client waits
            # for the delayed ACK (~40 ms) before the body arrives. No real receiver does that.
            disable_nagle_algorithm = True

            def log_message(self, *_: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                at = time.monotonic()
                try:
                    aid = str(json.loads(body)["data"]["article"]["id"])
                except (ValueError, KeyError, TypeError):
                    aid = ""
                with outer.lock:
                    outer.arrivals.append((at, aid))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = serve_in_thread(Handler)
        return self

    def stop(self) -> None:
        stop_server(self.server)


NGINX_CONF = """
worker_processes 1;
error_log {root}/error.log warn;
pid {root}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    keepalive_requests 100000;
    log_format hook '$http_webhook_id';
    types {{ application/rss+xml rss; }}
    gzip on;
    gzip_types application/rss+xml;
    gzip_comp_level 6;
    server {{
        listen 127.0.0.1:{port};
        location /hook {{ {hook_log} return 200 "ok"; }}
        location /feeds/ {{ root {root}/www; }}
        location /static/ {{ alias {root}/www/feeds/; gzip_static on; }}
    }}
}}
"""


def ensure_tool(binary: str, package: str) -> str:
    """The path of ``binary``, installing ``package`` with apt-get when it is missing."""
    path = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/usr/bin")
    if path is None:
        subprocess.run(["apt-get", "install", "-y", "-q", package], check=False, capture_output=True)
        path = shutil.which(binary, path="/usr/sbin:/usr/bin")
    if path is None:
        raise SystemExit(f"bench: {binary} is missing and `apt-get install -y {package}` did not install it")
    return path


@dataclass
class Nginx:
    """nginx on a free 127.0.0.1 port, one worker process, config and files in a temp dir.

    With ``log_hooks``, each webhook's ``webhook-id`` is written to a log as it arrives (nginx
    writes access logs unbuffered): a receiver that costs the machine far less CPU than
    :class:`CountingReceiver`, for scenarios that only count what arrived."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bench-nginx-")))
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    log_hooks: bool = False
    _ids: set[str] = field(default_factory=set)
    _offset: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Nginx:
        binary = ensure_tool("nginx", "nginx-light")
        (self.root / "www" / "feeds").mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        conf = self.root / "nginx.conf"
        hook_log = f"access_log {self.hooks_log} hook;" if self.log_hooks else ""
        conf.write_text(NGINX_CONF.format(root=self.root, port=self.port, hook_log=hook_log))
        self.proc = subprocess.Popen(
            [binary, "-p", str(self.root), "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for(lambda: requests.post(self.base + "/hook", timeout=1).ok, 10, what="nginx")
        return self

    @property
    def hooks_log(self) -> Path:
        return self.root / "hooks.log"

    def unique_hooks(self) -> int:
        """Distinct webhook ids received so far (a redelivered event counts once); the warm-up
        POST of :meth:`start` has no id and is not counted."""
        if self.hooks_log.exists():
            with self.hooks_log.open("rb") as f:
                f.seek(self._offset)
                data = f.read()
            complete = data[: data.rfind(b"\n") + 1]  # a line still being written waits
            self._offset += len(complete)
            self._ids.update(line for line in complete.decode().splitlines() if line not in ("", "-"))
        return len(self._ids)

    def hooks_received(self) -> int:
        """Webhook requests received (redeliveries included)."""
        if not self.hooks_log.exists():
            return 0
        return sum(1 for line in self.hooks_log.read_bytes().splitlines() if line not in (b"", b"-"))

    def put_feed(self, name: str, body: bytes) -> str:
        """Serve ``body`` at ``/feeds/NAME`` (gzip made on the fly); returns the URL."""
        path = self.root / "www" / "feeds" / name
        path.write_bytes(body)
        path.chmod(0o644)
        for parent in (path.parent, path.parent.parent):
            parent.chmod(0o755)
        return f"{self.base}/feeds/{name}"

    def put_files(self, name: str, *files: Path) -> str:
        """Serve copies of ``files`` (a feed and its ``.gz``, mtimes kept) at ``/static/NAME`` with
        ``gzip_static on``: nginx's plainest way to serve a file and its precompressed gzip."""
        folder = self.root / "www" / "feeds"
        folder.mkdir(parents=True, exist_ok=True)
        for file in files:
            shutil.copy2(file, folder / file.name)
            (folder / file.name).chmod(0o644)
        for parent in (folder, folder.parent):
            parent.chmod(0o755)
        return f"{self.base}/static/{name}"

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)
