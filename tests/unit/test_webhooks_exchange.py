"""The lean exchange of a webhook attempt against raw receivers on 127.0.0.1 answering canned bytes."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
import requests

from worker.webhooks import http
from worker.webhooks.exchange import request_bytes


@dataclass
class Canned:
    """Answers each request with the next of ``answers``; counts connections and requests."""

    answers: list[bytes]
    listener: socket.socket = field(default_factory=lambda: socket.create_server(("127.0.0.1", 0)))
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/hook?x=1"

    def serve(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.listener.accept()
                self.connections += 1
                threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            data = b""
            while self.answers:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, rest = data.partition(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                while len(rest) < length:
                    rest += conn.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + rest[:length])
                data = rest[length:]
                conn.sendall(self.answers.pop(0))


@pytest.fixture
def canned() -> Iterator[Callable[..., Canned]]:
    started: list[Canned] = []

    def start(*answers: bytes) -> Canned:
        receiver = Canned(list(answers))
        threading.Thread(target=receiver.serve, daemon=True).start()
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.listener.close()


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with http.make_session() as session:
        yield session


def post(session: requests.Session, url: str) -> http.AttemptResult:
    return http.post(session, url, b'{"a": 1}', {"webhook-id": "msg_1"}, timeout=5, allow_private=True)


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def test_the_request_is_one_http_1_1_post_with_host_length_and_headers(session, canned) -> None:
    receiver = canned(OK)
    assert post(session, receiver.url).ok
    head, _, body = receiver.requests[0].partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /hook?x=1 HTTP/1.1"
    port = receiver.listener.getsockname()[1]
    assert f"Host: 127.0.0.1:{port}".encode() in lines and b"Content-Length: 8" in lines
    assert b"webhook-id: msg_1" in lines and body == b'{"a": 1}'


@pytest.mark.parametrize(
    ("answers", "connections"),
    [
        pytest.param([OK, OK], 1, id="content-length: reused"),
        pytest.param(
            [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nok\r\n0\r\n\r\n", OK],
            1,
            id="chunked, ended: reused",
        ),
        pytest.param(
            [b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", OK], 2, id="close"
        ),
        pytest.param([b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", OK], 2, id="http/1.0: closed"),
        pytest.param([b"HTTP/1.1 204 No Content\r\n\r\n", OK], 1, id="204: no body, reused"),
    ],
)
def test_a_connection_is_reused_only_after_a_complete_answer(session, canned, answers, connections) -> None:
    receiver = canned(*answers)
    first, second = post(session, receiver.url), post(session, receiver.url)
    assert first.ok and second.ok and second.response_body == "ok"
    assert receiver.connections == connections


def test_a_chunked_body_is_decoded(session, canned) -> None:
    answer = b"HTTP/1.1 400 Bad\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nbad\r\n4\r\n one\r\n0\r\n\r\n"
    result = post(session, canned(answer).url)
    assert result.status_code == 400 and result.response_body == "bad one"


def test_an_interim_100_continue_is_skipped(session, canned) -> None:
    result = post(session, canned(b"HTTP/1.1 100 Continue\r\n\r\n" + OK).url)
    assert result.ok and result.status_code == 200 and result.response_body == "ok"


def test_a_body_without_length_is_read_to_the_limit_and_the_connection_closed(session, canned) -> None:
    receiver = canned(b"HTTP/1.1 200 OK\r\n\r\n" + b"y" * 5000, OK)
    first = post(session, receiver.url)
    assert first.ok and first.response_body == "y" * 2048
    assert post(session, receiver.url).ok and receiver.connections == 2


def test_an_endless_head_is_an_error_not_a_hang(session, canned) -> None:
    result = post(session, canned(b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"p" * 70_000 + b"\r\n").url)
    assert not result.ok and result.status_code is None
    assert result.error is not None and "response head longer than 65536 bytes" in result.error


def test_a_garbled_status_line_is_a_connection_error(session, canned) -> None:
    result = post(session, canned(b"SMTP ready\r\n\r\n").url)
    assert not result.ok and result.error is not None and result.error.startswith("connection error: ")


def test_control_characters_never_reach_the_request_head() -> None:
    with pytest.raises(ValueError, match="control characters"):
        request_bytes("POST", "h", "/", {"x-evil": "a\r\nInjected: 1"}, b"")
    with pytest.raises(ValueError, match="control characters"):
        request_bytes("POST", "h", "/a b", {}, b"")
