"""One HTTP/1.1 POST over a pooled, guarded urllib3 connection, read without the HTTP stacks.

The connection comes from the pool of the session's ``GuardedAdapter`` (``worker.net.guard``):
a new one resolves once, checks, connects to the checked address, checks the peer, and does TLS
with certificate checks, all as before. Only the exchange on its socket is done here: the request
goes out in one ``sendall`` and the answer is parsed from raw reads. urllib3's ``urlopen``,
http.client's header parsing (the ``email`` package) and the response objects cost about 40 % of
an attempt's CPU, and a fan-out to 500 receivers is CPU-bound in the one webhooks process.

What is read is bounded: the head to ``MAX_HEAD_BYTES``, the body to the first ``limit`` bytes.
The connection goes back to the pool only when its answer ended within that (a complete
``Content-Length`` or chunked body) and the receiver did not ask to close; otherwise it is closed.
No redirect is followed (a 3xx is an answer like any other) and nothing is retried.
"""

from __future__ import annotations

import http.client
import ssl
from dataclasses import dataclass
from typing import Any

from urllib3 import exceptions as u3

from worker.net.deadline import CURRENT

MAX_HEAD_BYTES = 65536
READ_SIZE = 65536


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names; a repeated header keeps its first value
    body: bytes  # at most ``limit`` bytes


class _Reader:
    """Reads from one socket, keeping what came beyond the part asked for."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.buf = b""
        self.eof = False

    def fill(self) -> bool:
        chunk = self.sock.recv(READ_SIZE)
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def head(self) -> bytes:
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                head, self.buf = self.buf[:end], self.buf[end + 4 :]
                return head
            if len(self.buf) > MAX_HEAD_BYTES:
                raise http.client.LineTooLong(f"response head longer than {MAX_HEAD_BYTES} bytes")
            if not self.fill():
                if self.buf:
                    raise http.client.IncompleteRead(self.buf)
                raise http.client.RemoteDisconnected("Remote end closed connection without response")

    def take(self, n: int) -> bytes:
        """Up to ``n`` bytes (fewer only at the end of the stream)."""
        while len(self.buf) < n and self.fill():
            pass
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def line(self, limit: int = 1024) -> bytes | None:
        while (end := self.buf.find(b"\r\n")) < 0:
            if len(self.buf) > limit or not self.fill():
                return None
        out, self.buf = self.buf[:end], self.buf[end + 2 :]
        return out


def request_bytes(method: str, host: str, uri: str, headers: dict[str, str], body: bytes) -> bytes:
    """The request head and body; refuses a CR, LF or NUL in any part of the head."""
    lines = [f"{method} {uri} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    names = {name.lower() for name in headers}
    if "accept-encoding" not in names:
        lines.append("Accept-Encoding: identity")  # the excerpt is kept as sent: no decoding
    lines += [f"{name}: {value}" for name, value in headers.items() if name.lower() != "content-length"]
    joined = "".join(lines)
    if " " in uri or "\r" in joined or "\n" in joined or "\x00" in joined:
        raise u3.LocationValueError(f"control characters or spaces in the request head for {uri!r}")
    return "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + body


def _parse_head(head: bytes) -> tuple[int, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise http.client.BadStatusLine(lines[0][:200])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers.setdefault(name.strip().lower(), value.strip())
    return int(parts[1]), parts[0], headers


def _chunked(reader: _Reader, limit: int) -> tuple[bytes, bool]:
    """The first ``limit`` bytes of a chunked body, and whether the whole body was read."""
    out = b""
    while len(out) <= limit:
        line = reader.line()
        if line is None:
            return out, False
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            return out, False
        if size == 0:
            while (trailer := reader.line()) is not None and trailer:
                pass
            return out, trailer == b""
        data = reader.take(size)
        out += data
        if len(data) < size or reader.take(2) != b"\r\n":
            return out, False
    return out, False


def _body(
    reader: _Reader, status: int, version: str, headers: dict[str, str], limit: int
) -> tuple[bytes, bool]:
    """The first ``limit`` bytes of the body, and whether the connection may serve again."""
    close = "close" in headers.get("connection", "").lower() or (
        version == "HTTP/1.0" and "keep-alive" not in headers.get("connection", "").lower()
    )
    if status in (204, 304):
        return b"", not close
    if "chunked" in headers.get("transfer-encoding", "").lower():
        data, complete = _chunked(reader, limit)
        return data[:limit], complete and not close and len(data) < limit and not reader.buf
    length = headers.get("content-length", "")
    if length.isdigit():
        want = int(length)
        data = reader.take(min(want, limit))
        whole = want <= limit and len(data) == want and not reader.buf
        return data, whole and not close
    return reader.take(limit), False  # ends with the connection: never reused


def exchange(conn: Any, request: bytes, limit: int, timeout: float) -> tuple[Answer, bool]:
    """Send ``request`` on ``conn`` (connecting it first if new) and read the answer.

    Returns the answer and whether ``conn`` may go back to its pool. Raises what connecting
    raises (urllib3's errors), ``TimeoutError`` when a step times out or the attempt's deadline
    expired before the head was complete, and ``OSError``/``http.client`` errors for a broken
    exchange."""
    if conn.sock is None:
        try:
            conn.connect()  # guarded (worker.net.guard), TLS verified for https
        except (ssl.SSLError, ssl.CertificateError) as exc:
            raise u3.SSLError(exc) from exc
    sock = conn.sock
    sock.settimeout(timeout)  # each read (and the send) gets ``timeout``; the deadline bounds all
    sock.sendall(request)
    reader = _Reader(sock)
    try:
        status, version, headers = _parse_head(reader.head())
        while 100 <= status < 200 and status != 101:  # interim answers (100 Continue): skip
            status, version, headers = _parse_head(reader.head())
    except (http.client.HTTPException, OSError):
        deadline = CURRENT.get()
        if deadline is not None and deadline.expired:
            raise TimeoutError("the attempt's deadline passed before the answer's head") from None
        raise
    deadline = CURRENT.get()
    if deadline is not None and deadline.expired:  # the shutdown may have ended the head early
        raise TimeoutError("the attempt's deadline passed before the answer's head")
    try:
        body, reusable = _body(reader, status, version, headers, limit)
    except OSError:  # the answer counts; a broken body only loses the excerpt and the connection
        body, reusable = reader.buf[:limit], False
    return Answer(status, headers, body), reusable


__all__ = ["Answer", "exchange", "request_bytes"]
