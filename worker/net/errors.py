"""Why an outgoing request failed before an answer came, in one line, with its kind.

Kinds (recorded with a source's state, shown in delivery logs): ``forbidden target``,
``timeout`` (one connect or read step), ``deadline`` (the whole request, see
``worker.net.deadline``), ``too large``, ``connection refused``, ``tls error``, ``dns error``,
``connection error``, ``redirects``, ``http status``, and ``error`` for anything else.
"""

from __future__ import annotations

import socket

import requests
from urllib3 import exceptions as u3

from worker.net import ssrf


class OutgoingError(Exception):
    """An outgoing request that failed; ``kind`` names how (see the module), the message says it all."""

    def __init__(self, message: str, kind: str = "error") -> None:
        super().__init__(message)
        self.kind = kind


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what caused it (``__cause__``, ``__context__``, urllib3 ``reason``, args)."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo and len(seen) < 20:
        item = todo.pop(0)
        if any(item is other for other in seen):
            continue
        seen.append(item)
        nexts = [item.__cause__, item.__context__, getattr(item, "reason", None)]
        nexts += [arg for arg in item.args if isinstance(arg, BaseException)]
        todo += [n for n in nexts if isinstance(n, BaseException)]
    return seen


def one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def classify(exc: BaseException, timeout: float) -> tuple[str, str]:
    """The kind and a one-line description of an exception raised by a request."""
    chain = _chain(exc)
    for item in chain:
        if isinstance(item, ssrf.ForbiddenTarget):
            return "forbidden target", f"forbidden target: {item}"
    if any(isinstance(item, requests.Timeout | TimeoutError | socket.timeout) for item in chain):
        return "timeout", f"timeout after {float(timeout)}s"
    if any(isinstance(item, ConnectionRefusedError) for item in chain):
        return "connection refused", "connection refused"
    if any(isinstance(item, requests.exceptions.SSLError | u3.SSLError) for item in chain):
        return "tls error", one_line(f"tls error: {exc}")
    if any(isinstance(item, socket.gaierror) for item in chain):
        return "dns error", "host does not resolve"
    if isinstance(exc, requests.ConnectionError | u3.HTTPError | OSError):
        return "connection error", one_line(f"connection error: {chain[-1]}")
    return "error", one_line(f"{type(exc).__name__}: {exc}")


def describe_error(exc: BaseException, timeout: float) -> str:
    """A one-line description of why a request failed before an answer came."""
    return classify(exc, timeout)[1]
