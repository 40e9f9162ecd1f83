"""One delivery attempt against real receivers on 127.0.0.1 (ThreadingHTTPServer, port 0)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from standardwebhooks.webhooks import Webhook

from worker.webhooks import http, signing

Behaviour = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    release: threading.Event
    connections: int = 0
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


def answer(status: int, body: bytes = b"ok", extra: dict[str, str] | None = None) -> Behaviour:
    def behave(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        for name, value in (extra or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return behave


@pytest.fixture
def start_receiver() -> Iterator[Callable[[Behaviour], Receiver]]:
    started: list[Receiver] = []

    def start(behave: Behaviour) -> Receiver:
        receiver: Receiver

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                receiver.requests.append((self.path, dict(self.headers.items()), body))
                behave(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def verify_request(self, request: object, client_address: object) -> bool:
                receiver.connections += 1
                return True

        receiver = Receiver(Server(("127.0.0.1", 0), Handler), threading.Event())
        threading.Thread(target=receiver.server.serve_forever, args=(0.05,), daemon=True).start()
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.release.set()
        receiver.server.shutdown()
        receiver.server.server_close()


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with http.make_session() as session:
        yield session


SECRET = signing.new_secret()
BODY = b'{"type": "article.published", "data": {"audience": "ru"}}'


def send(session: requests.Session, url: str, **kwargs: object) -> http.AttemptResult:
    headers = signing.headers([SECRET], "msg_test", int(time.time()), BODY)
    return http.post(session, url, BODY, headers, **{"allow_private": True, **kwargs})  # type: ignore[arg-type]


def test_200_is_ok_and_the_receiver_can_verify_it(session, start_receiver) -> None:
    receiver = start_receiver(answer(200, b"thanks"))
    result = send(session, receiver.url + "/hook")
    assert result.ok and result.status_code == 200 and result.error is None
    assert result.response_body == "thanks"
    assert result.duration_ms > 0 and not result.gone and result.retry_after is None
    (path, headers, body) = receiver.requests[0]
    assert path == "/hook" and body == BODY
    assert headers["user-agent"] == "syndicate-webhooks/1"
    assert headers["content-type"] == "application/json"
    Webhook(SECRET).verify(body, headers)


def test_500_is_a_failure(session, start_receiver) -> None:
    result = send(session, start_receiver(answer(500, b"boom")).url)
    assert not result.ok and result.status_code == 500
    assert result.error == "http status 500" and result.response_body == "boom"


def test_302_is_not_followed(session, start_receiver) -> None:
    target = start_receiver(answer(200))
    location = target.url + "/elsewhere"
    redirecting = start_receiver(answer(302, b"", {"Location": location}))
    result = send(session, redirecting.url)
    assert not result.ok and result.status_code == 302
    assert result.error == f"redirect to {location} not followed"
    assert len(redirecting.requests) == 1
    assert target.requests == [] and target.connections == 0


@pytest.mark.parametrize(("value", "expected"), [("7", 7.0), ("0", 0.0), ("soon", None)])
def test_429_retry_after_seconds(session, start_receiver, value: str, expected: float | None) -> None:
    result = send(session, start_receiver(answer(429, b"slow down", {"Retry-After": value})).url)
    assert not result.ok and result.status_code == 429
    assert result.retry_after == expected


def test_503_retry_after_http_date(session, start_receiver) -> None:
    when = datetime.fromtimestamp(time.time() + 120, UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    result = send(session, start_receiver(answer(503, b"", {"Retry-After": when})).url)
    assert result.retry_after is not None and 100 < result.retry_after <= 120


def test_retry_after_ignored_on_other_statuses(session, start_receiver) -> None:
    result = send(session, start_receiver(answer(500, b"", {"Retry-After": "7"})).url)
    assert result.retry_after is None


def test_410_is_gone(session, start_receiver) -> None:
    result = send(session, start_receiver(answer(410, b"unsubscribed")).url)
    assert result.gone and not result.ok and result.status_code == 410


def test_hanging_receiver_times_out(session, start_receiver) -> None:
    receiver = start_receiver(lambda handler: receiver.release.wait(10))
    started = time.perf_counter()
    result = send(session, receiver.url, timeout=0.5)
    assert time.perf_counter() - started < 3
    assert not result.ok and result.status_code is None
    assert result.error == "timeout after 0.5s"
    assert 450 < result.duration_ms < 3000


def test_response_body_is_cut_at_2_kb(session, start_receiver) -> None:
    result = send(session, start_receiver(answer(200, b"x" * 10_000)).url)
    assert result.ok and result.response_body == "x" * 2048


def test_undecodable_body_is_replaced_not_raised(session, start_receiver) -> None:
    result = send(session, start_receiver(answer(400, b"\xff\xfebad")).url)
    assert result.response_body == "\ufffd\ufffdbad" and result.error == "http status 400"


def test_connections_are_reused_across_attempts(session, start_receiver) -> None:
    receiver = start_receiver(answer(200, b"ok"))
    for _ in range(3):
        assert send(session, receiver.url).ok
    assert len(receiver.requests) == 3 and receiver.connections == 1


def test_literal_loopback_refused_before_connecting(session, start_receiver) -> None:
    receiver = start_receiver(answer(200))
    result = send(session, receiver.url, allow_private=False)
    assert not result.ok and result.status_code is None
    assert result.error == "forbidden target: webhook url host '127.0.0.1' is a loopback address"
    assert receiver.connections == 0 and receiver.requests == []


def test_a_name_resolving_to_loopback_is_refused_before_any_connection(
    session, start_receiver, monkeypatch
) -> None:
    # A public-looking name whose DNS answer, at delivery time, is 127.0.0.1.
    receiver = start_receiver(answer(200))
    port = receiver.server.server_address[1]
    real_getaddrinfo = socket.getaddrinfo

    def rebinding(host: str, *args: object, **kwargs: object) -> object:
        assert host == "hooks.example.com", f"unexpected lookup of {host!r}"
        return real_getaddrinfo("127.0.0.1", *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    result = send(session, f"http://hooks.example.com:{port}/hook", allow_private=False)
    assert not result.ok and result.status_code is None
    assert result.error == (
        "forbidden target: webhook url host 'hooks.example.com' resolves to 127.0.0.1, a loopback address"
    )
    # Refused on the answer it checked: no TCP handshake reached the receiver.
    send(session, receiver.url)  # a request that does arrive, so the count below is settled
    assert receiver.connections == 1 and len(receiver.requests) == 1


def test_connect_time_guard_is_off_with_allow_private(session, start_receiver, monkeypatch) -> None:
    receiver = start_receiver(answer(200))
    port = receiver.server.server_address[1]
    real_getaddrinfo = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: real_getaddrinfo("127.0.0.1", *a, **k))
    assert send(session, f"http://hooks.example.com:{port}/", allow_private=True).ok
    assert len(receiver.requests) == 1


def test_connection_refused(session) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = send(session, f"http://127.0.0.1:{port}/")
    assert not result.ok and result.error == "connection refused" and result.status_code is None


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("ftp://127.0.0.1/", "forbidden target: webhook url 'ftp://127.0.0.1/' must use http or https"),
        ("not a url", "forbidden target: webhook url 'not a url' must use http or https"),
        ("http://", "forbidden target: webhook url 'http://' has no host"),
    ],
)
def test_bad_urls_become_results_not_exceptions(session, url: str, error: str) -> None:
    result = send(session, url)
    assert not result.ok and result.error == error


def test_parse_retry_after_forms() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert http.parse_retry_after("120", now) == 120.0
    assert http.parse_retry_after(" 1.5 ", now) == 1.5
    assert http.parse_retry_after("-3", now) == 0.0
    assert http.parse_retry_after("Wed, 01 Jan 2025 12:00:30 GMT", now) == 30.0
    assert http.parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now) == 0.0
    assert http.parse_retry_after("", now) is None
    assert http.parse_retry_after(None, now) is None
    assert http.parse_retry_after("nan", now) is None
    assert http.parse_retry_after("tomorrow", now) is None


def test_https_guard_refuses_before_the_tls_hello(session, monkeypatch) -> None:
    # The second line, the peer check: DNS answers a public address (checked, allowed) but the
    # connection lands on 127.0.0.1 (as behind an interception box). The test's connect sends
    # that public address's connection to the loopback listener: no packet leaves 127.0.0.1.
    # A raw TCP listener records every byte it gets: the guard must close before the ClientHello.
    listener = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []

    def accept_one() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(2)
            try:
                received.append(conn.recv(65536))
            except OSError:
                received.append(b"<timeout>")

    worker = threading.Thread(target=accept_one, daemon=True)
    worker.start()
    port = listener.getsockname()[1]
    public = "93.184.216.34"
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, p, *a, **k: [(2, 1, 6, "", (public, p))])
    real_connect = socket.socket.connect

    def to_loopback(sock: socket.socket, address: tuple[str, int]) -> None:
        assert address == (public, port), f"unexpected connect to {address}"
        real_connect(sock, ("127.0.0.1", port))

    monkeypatch.setattr(socket.socket, "connect", to_loopback)
    try:
        result = send(session, f"https://hooks.example.com:{port}/", allow_private=False)
        worker.join(3)
    finally:
        listener.close()
    assert result.error == (
        "forbidden target: webhook url host 'hooks.example.com' connected to 127.0.0.1, a loopback address"
    )
    assert received == [b""]


@pytest.fixture
def dripping() -> Iterator[Callable[[bytes], str]]:
    """A raw receiver that answers ``head`` and then drips one byte every 0.2 s for up to 30 s."""
    stop = threading.Event()
    listeners: list[socket.socket] = []

    def start(head: bytes) -> str:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)

        def serve() -> None:
            with contextlib.suppress(OSError):
                conn, _ = listener.accept()
                with conn:
                    conn.recv(65536)
                    conn.sendall(head)
                    for _ in range(150):
                        if stop.wait(0.2):
                            break
                        conn.sendall(b"X")

        threading.Thread(target=serve, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}/"

    yield start
    stop.set()
    for listener in listeners:
        listener.close()


def test_a_dripping_receiver_meets_the_total_deadline(session, dripping) -> None:
    # Every read gets a byte within 0.2 s, so only the total deadline can end this attempt.
    url = dripping(b"HTTP/1.1 200 OK\r\n")
    started = time.perf_counter()
    result = send(session, url, timeout=1)
    assert time.perf_counter() - started < 10  # the drip would last 30 s
    assert not result.ok and result.status_code is None
    assert result.error == "timeout after 1.0s (total)"


def test_the_deadline_can_be_shorter_than_the_timeout(session, dripping) -> None:
    result = send(session, dripping(b"HTTP/1.1 200 OK\r\n"), timeout=20, deadline=0.5)
    assert result.error == "timeout after 0.5s (total)"


def test_a_body_cut_by_the_deadline_keeps_the_answer_and_drops_the_connection(session, dripping) -> None:
    url = dripping(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
    result = send(session, url, timeout=5, deadline=0.5)
    assert result.ok and result.status_code == 200
    assert set(result.response_body) <= {"X"}
    pool = session.get_adapter(url).poolmanager.connection_from_url(url)
    assert pool.num_connections == 1 and pool.pool is not None
    assert all(conn is None or conn.sock is None for conn in list(pool.pool.queue))


def test_a_deadline_passing_after_the_attempt_leaves_the_pooled_connection_alone(
    session, start_receiver
) -> None:
    receiver = start_receiver(answer(200, b"ok"))
    assert send(session, receiver.url, deadline=0.05).ok
    time.sleep(0.5)  # well past the first attempt's deadline (and its slack)
    assert send(session, receiver.url).ok
    assert receiver.connections == 1


def test_a_receiver_that_hangs_up_is_a_connection_error(session, start_receiver) -> None:
    receiver = start_receiver(lambda handler: handler.connection.shutdown(socket.SHUT_RDWR))
    result = send(session, receiver.url, timeout=5)
    assert not result.ok and result.status_code is None
    assert result.error is not None and result.error.startswith("connection error: ")
    assert "Remote end closed connection without response" in result.error


def test_a_session_without_the_guard_is_refused_not_raised() -> None:
    with requests.Session() as plain:
        result = send(plain, "http://127.0.0.1:9/", allow_private=False)
    assert not result.ok and result.error is not None and "forbidden target" in result.error
    with requests.Session() as plain:
        result = send(plain, "http://127.0.0.1:9/")
    assert result.error == "TypeError: webhook posts need a session from make_session (its GuardedAdapter)"


def test_https_certificates_are_verified(session, tmp_path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a self-signed certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subject = ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    make = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", *subject]
    subprocess.run([*make, "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        result = send(session, f"https://127.0.0.1:{server.server_address[1]}/")
    finally:
        server.shutdown()
        server.server_close()
    assert result.status_code is None and result.error is not None
    assert result.error.startswith("tls error: ") and "CERTIFICATE_VERIFY_FAILED" in result.error
