"""The guard and deadline of every outgoing request (``worker.net``), on real sockets on 127.0.0.1.

Network rule: nothing here sends a packet beyond loopback. Where a test's resolver answers a
public address (93.184.216.34, checked and allowed by the guard), ``socket.socket.connect`` is
replaced for the test: a connect to a loopback address goes through, any other is recorded and
refused on the spot (``ConnectionRefusedError``) before the kernel is asked, so no SYN leaves.
"""

from __future__ import annotations

import contextlib
import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from worker import fetch, websub
from worker.net.client import request
from worker.net.errors import OutgoingError
from worker.webhooks import http

PUBLIC = "93.184.216.34"  # checked by the guard only: never connected to (see the module)


class Listener:
    """An HTTP server on 127.0.0.1 that counts the TCP connections it accepts."""

    def __init__(self, status: int = 200, context: ssl.SSLContext | None = None) -> None:
        outer = self
        self.accepted = 0
        self.hosts: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.do_GET()

            def do_GET(self) -> None:
                outer.hosts.append(self.headers.get("Host", ""))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def verify_request(self, request: Any, client_address: Any) -> bool:
                outer.accepted += 1
                return True

        self.server = Server(("127.0.0.1", 0), Handler)
        if context is not None:
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every address a socket of this process connects to; non-loopback ones refused unsent."""
    seen: list[tuple[str, int]] = []
    real = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> None:
        seen.append((str(address[0]), int(address[1])))
        if not ipaddress.ip_address(str(address[0]).split("%")[0]).is_loopback:
            raise ConnectionRefusedError(f"test: no connect to {address[0]} (network rule)")
        real(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return seen


def dns(monkeypatch: pytest.MonkeyPatch, *answers: str) -> list[str]:
    """The system resolver answers ``answers`` in turn (the last one from then on); returns the
    names looked up."""
    asked: list[str] = []

    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        asked.append(host)
        address = answers[min(len(asked), len(answers)) - 1]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, int(port)))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def post(url: str, *, allow_private: bool = False, **kwargs: Any) -> http.AttemptResult:
    with http.make_session() as session:
        return http.post(session, url, b"{}", {}, allow_private=allow_private, **kwargs)


def test_a_rebinding_name_is_resolved_once_and_loopback_is_never_reached(
    monkeypatch: pytest.MonkeyPatch, listener: Listener, connects: list[tuple[str, int]]
) -> None:
    """First answer public, then 127.0.0.1: each attempt resolves once and connects only to the
    address it checked, so no handshake ever reaches the listener on 127.0.0.1."""
    asked = dns(monkeypatch, PUBLIC, "127.0.0.1")
    url = f"http://hooks.rebind.example:{listener.port}/hook"

    first = post(url)
    assert asked == ["hooks.rebind.example"]  # once for the check and the connect together
    assert connects == [(PUBLIC, listener.port)]  # the checked address (refused by the test)
    assert first.error == "connection refused"

    second = post(url)
    assert asked == ["hooks.rebind.example"] * 2
    assert second.error == (
        "forbidden target: webhook url host 'hooks.rebind.example' resolves to 127.0.0.1, a loopback address"
    )
    assert connects == [(PUBLIC, listener.port)]  # refused before any packet
    assert listener.accepted == 0


def test_every_address_of_the_answer_is_checked(
    monkeypatch: pytest.MonkeyPatch, listener: Listener, connects: list[tuple[str, int]]
) -> None:
    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        return [(2, 1, 6, "", (PUBLIC, int(port))), (2, 1, 6, "", ("127.0.0.1", int(port)))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    result = post(f"http://mixed.example:{listener.port}/")
    assert result.error is not None and "resolves to 127.0.0.1, a loopback address" in result.error
    assert connects == [] and listener.accepted == 0


def test_the_host_header_comes_from_the_url_while_the_connect_goes_to_the_address(
    monkeypatch: pytest.MonkeyPatch, listener: Listener
) -> None:
    dns(monkeypatch, "127.0.0.1")
    result = post(f"http://hooks.named.example:{listener.port}/hook", allow_private=True)
    assert result.ok
    assert listener.hosts == [f"hooks.named.example:{listener.port}"]


def test_tls_sni_and_certificate_check_use_the_url_host_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a self-signed certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subject = ["-subj", "/CN=hooks.tls.example", "-addext", "subjectAltName=DNS:hooks.tls.example"]
    make = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", *subject]
    subprocess.run([*make, "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []
    context.sni_callback = lambda _sock, name, _ctx: names.append(name)  # type: ignore[assignment,func-returns-value]
    server = Listener(context=context)
    dns(monkeypatch, "127.0.0.1")
    try:
        with http.make_session() as session:
            session.verify = str(cert)  # trusts this certificate, for hooks.tls.example only
            ok = http.post(
                session, f"https://hooks.tls.example:{server.port}/", b"{}", {}, allow_private=True
            )
            wrong = http.post(session, f"https://127.0.0.1:{server.port}/", b"{}", {}, allow_private=True)
    finally:
        server.close()
    assert ok.ok, ok.error
    assert names[0] == "hooks.tls.example"
    assert wrong.error is not None and "CERTIFICATE_VERIFY_FAILED" in wrong.error


def test_a_lookup_that_hangs_is_ended_by_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def hanging(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        release.wait(30)
        raise socket.gaierror("released")

    monkeypatch.setattr(socket, "getaddrinfo", hanging)
    try:
        result = post("http://slow-dns.example/", allow_private=True, timeout=5, deadline=0.3)
    finally:
        release.set()
    assert result.error == "timeout after 0.3s (total)"


@pytest.fixture
def dripping() -> Iterator[Callable[[bytes], str]]:
    """A raw server on 127.0.0.1 that sends ``head`` and then one byte every 0.2 s for 30 s."""
    stop = threading.Event()
    listeners: list[socket.socket] = []

    def start(head: bytes) -> str:
        server = socket.create_server(("127.0.0.1", 0))
        listeners.append(server)

        def serve() -> None:
            with contextlib.suppress(OSError):
                while not stop.is_set():
                    conn, _ = server.accept()
                    threading.Thread(target=drip, args=(conn,), daemon=True).start()

        def drip(conn: socket.socket) -> None:
            with contextlib.suppress(OSError), conn:
                conn.recv(65536)
                conn.sendall(head)
                for _ in range(150):
                    if stop.wait(0.2):
                        break
                    conn.sendall(b"x")

        threading.Thread(target=serve, daemon=True).start()
        return f"http://127.0.0.1:{server.getsockname()[1]}/feed.xml"

    yield start
    stop.set()
    for server in listeners:
        server.close()


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n\r\n",  # no length: ends at close
        b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n",  # headers that never end
    ],
    ids=["no-length", "length", "headers"],
)
def test_a_dripping_upstream_meets_the_fetch_deadline(dripping: Callable[[bytes], str], head: bytes) -> None:
    # every read gets a byte within 0.2 s: only the wall-clock deadline can end this fetch
    url = dripping(head)
    with pytest.raises(OutgoingError) as caught:
        fetch.fetch(url, {}, allow_private=True, deadline=1.0)
    assert caught.value.kind == "deadline"
    assert str(caught.value) == f"{url}: no complete answer within the 1s deadline"


def test_the_deadline_covers_every_redirect_hop(dripping: Callable[[bytes], str]) -> None:
    # Each hop answers a redirect after 0.4 s; six hops would take 2.4 s, the fetch has 1 s.
    hops: list[float] = []

    class Slow(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hops.append(time.monotonic())
            time.sleep(0.4)
            self.send_response(302)
            self.send_header("Location", f"/hop{len(hops)}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        with pytest.raises(OutgoingError) as caught:
            fetch.fetch(f"http://127.0.0.1:{server.server_address[1]}/", {}, allow_private=True, deadline=1.0)
    finally:
        server.shutdown()
        server.server_close()
    assert caught.value.kind == "deadline"
    assert len(hops) < 4


def test_fetch_refuses_a_loopback_feed_without_the_setting(listener: Listener) -> None:
    with pytest.raises(OutgoingError) as caught:
        fetch.fetch(f"http://127.0.0.1:{listener.port}/feed.xml", {}, allow_private=False)
    assert caught.value.kind == "forbidden target" and "loopback address" in str(caught.value)
    assert listener.accepted == 0


def test_a_private_literal_is_refused_before_any_lookup_or_connect(connects: list[tuple[str, int]]) -> None:
    # What every hop of a fetch goes through, a redirect's Location included.
    with pytest.raises(OutgoingError) as caught:
        request("GET", "http://10.0.0.1/feed.xml", allow_private=False, deadline=5, max_bytes=10)
    assert caught.value.kind == "forbidden target" and "private address" in str(caught.value)
    assert connects == []


def test_an_answer_over_the_cap_is_too_large(listener: Listener) -> None:
    with pytest.raises(OutgoingError) as caught:
        request("GET", f"http://127.0.0.1:{listener.port}/", allow_private=True, deadline=5, max_bytes=1)
    assert caught.value.kind == "too large"
    reply = request(
        "GET",
        f"http://127.0.0.1:{listener.port}/",
        allow_private=True,
        deadline=5,
        max_bytes=1,
        truncate=True,
    )
    assert reply.status == 200 and reply.body == b"o"


def test_websub_pings_are_guarded(listener: Listener) -> None:
    hub = f"http://127.0.0.1:{listener.port}/hub"
    assert websub._ping(hub, "http://x/feed", allow_private=False) is None  # refused, not retried
    assert listener.accepted == 0
    assert websub._ping(hub, "http://x/feed", allow_private=True) == 200
    assert listener.accepted == 1


def test_a_dripping_hub_meets_the_ping_deadline(
    dripping: Callable[[bytes], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(websub, "PING_SECONDS", 0.5)
    monkeypatch.setattr(websub, "ATTEMPTS", 1)
    with pytest.raises(OutgoingError) as caught:
        request("POST", dripping(b"HTTP/1.1 200 OK\r\n"), allow_private=True, deadline=0.5, max_bytes=10)
    assert caught.value.kind == "deadline"
    assert websub._ping(dripping(b"HTTP/1.1 200 OK\r\n"), "http://x/feed", allow_private=True) is None
