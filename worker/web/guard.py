"""ASGI layers in front of every route: refuse before reading, bounded body reads, JSON 500s.

``RequestGuard`` sees each request before the application does:

* a write (any method but GET, HEAD, OPTIONS) without the bearer token is answered ``401`` and
  the connection closed before a byte of its body is read: an anonymous client costs the server
  only what uvicorn holds for one connection (64 KB at most);
* a declared ``Content-Length`` over the limit is answered ``413`` without reading;
* an authenticated body is read within ``body_timeout`` seconds in all (a client that holds its
  upload one byte short is answered ``408`` and its connection closed) and at most ``limit``
  bytes (``413``), then handed to the application unchanged;
* reads (GET, HEAD, OPTIONS) go straight on: no route reads their body, so none is read.

``InternalErrors`` turns any exception a route raises into a JSON ``500`` with an ``error_id``
that the log line (with the traceback) carries too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from worker.settings import Settings

log = logging.getLogger("syndicate.web")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def token_matches(expected: str, authorization: str) -> bool:
    """``Authorization: Bearer <expected>``, compared in constant time; never with no token set."""
    scheme, _, given = authorization.partition(" ")
    return bool(expected) and (
        scheme.lower() == "bearer" and secrets.compare_digest(given.strip().encode(), expected.encode())
    )


async def send_json(
    send: Send, status: int, doc: dict[str, str], headers: dict[str, str] | None = None
) -> None:
    """A complete JSON answer that also closes the connection (its body may not have been read)."""
    body = json.dumps(doc).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class RequestGuard:
    def __init__(self, app: ASGIApp, settings: Callable[[], Settings]) -> None:
        self.app, self.settings = app, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        settings = self.settings()
        headers = dict(scope["headers"])
        if not token_matches(settings.api_token, headers.get(b"authorization", b"").decode("latin-1")):
            detail = (
                "missing or invalid bearer token"
                if settings.api_token
                else "the server has no SYNDICATE_API_TOKEN configured; writes are refused"
            )
            await send_json(
                send, 401, {"error": "unauthorized", "detail": detail}, {"WWW-Authenticate": "Bearer"}
            )
            return
        limit = settings.max_body_bytes
        declared = headers.get(b"content-length", b"").strip()
        if declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
            await _too_large(send, f"body of {declared[:40].decode()} bytes", limit)
            return
        held = await self._read(receive, send, limit, settings.body_timeout)
        if held is None:
            return

        async def replay() -> Message:
            return held.pop(0) if held else await receive()

        await self.app(scope, replay, send)

    async def _read(self, receive: Receive, send: Send, limit: int, timeout: float) -> list[Message] | None:
        """The whole body as the messages that carried it, or None once refused (answer sent)."""
        held: list[Message] = []
        size = 0
        deadline = time.monotonic() + timeout
        while True:
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                await send_json(
                    send,
                    408,
                    {
                        "error": "request_timeout",
                        "detail": f"the body did not arrive within {timeout:g} s "
                        f"({size} bytes read); send it in one go or raise SYNDICATE_BODY_TIMEOUT",
                    },
                )
                return None
            held.append(message)
            if message["type"] != "http.request":
                return held
            size += len(message.get("body", b""))
            if size > limit:
                await _too_large(send, "body", limit)
                return None
            if not message.get("more_body", False):
                return held


async def _too_large(send: Send, what: str, limit: int) -> None:
    await send_json(send, 413, {"error": "too_large", "detail": f"{what} is over the limit of {limit} bytes"})


class InternalErrors:
    """Any exception out of the application: a JSON ``500`` naming an error id, logged with it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            error_id = secrets.token_hex(8)
            log.error(
                "internal error %s on %s %s: %s: %s",
                error_id,
                scope.get("method"),
                scope.get("path"),
                type(exc).__name__,
                str(exc)[:300],
                exc_info=exc,
                extra={"error_id": error_id},
            )
            if started:  # too late for an answer: the connection is cut, the log has the id
                raise
            await send_json(
                send,
                500,
                {
                    "error": "internal",
                    "detail": f"the server failed on this request; its log names error id {error_id}",
                    "error_id": error_id,
                },
            )
