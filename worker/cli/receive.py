"""``syndicate receive``: a small webhook receiver for trying webhooks on a laptop.

It answers every ``POST`` with ``204`` when the Standard Webhooks signature checks out (``401``
otherwise) and prints one line per request: verified or not, event type, audience, title.
"""

from __future__ import annotations

import hmac
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import typer

from worker.cli.common import fail

MAX_BODY = 8 * 1024 * 1024
TOLERANCE = 5 * 60  # seconds a webhook-timestamp may be off (Standard Webhooks' suggestion)


def check(secret: str, headers: dict[str, str], body: bytes, now: float) -> str | None:
    """Why this request is not a valid signed webhook for ``secret``, or None when it is."""
    from worker.webhooks.signing import signature

    msg_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    given = headers.get("webhook-signature", "").split()
    if not (msg_id and stamp.isdigit() and given):
        return "missing webhook-id, webhook-timestamp or webhook-signature header"
    if abs(now - int(stamp)) > TOLERANCE:
        return f"webhook-timestamp {stamp} is more than {TOLERANCE} s away from now"
    expected = signature(secret, msg_id, int(stamp), body).encode()
    if not any(hmac.compare_digest(expected, s.encode()) for s in given):
        return "signature mismatch (is --secret the subscription's current secret?)"
    return None


def describe(body: bytes) -> str:
    try:
        event = json.loads(body)
        data = event.get("data") or {}
        article = data.get("article") or {}
        title, aid = str(article.get("title") or ""), article.get("id")
        if "uri" in article:  # a ninjs document (a subscription with "format": "ninjs")
            heads = [h for h in article.get("headlines") or [] if isinstance(h, dict)]
            title = str(heads[0].get("value") or "") if heads else ""
            ids = [i.get("value") for i in article.get("altIds") or [] if i.get("role") == "article-id"]
            aid = ids[0] if ids else article["uri"]
        return f"{event.get('type')} audience={data.get('audience')} id={aid} {title!r}"
    except (ValueError, AttributeError):
        return f"{len(body)} bytes, not a JSON event"


def receive(
    port: int = typer.Option(18110, "--port", help="Port to listen on (127.0.0.1 only)."),
    secret: str = typer.Option(
        "",
        "--secret",
        envvar="SYNDICATE_RECEIVE_SECRET",
        metavar="WHSEC",
        help="The subscription's secret (whsec_...), as `subscriptions add` printed it "
        "(env SYNDICATE_RECEIVE_SECRET). Without it nothing is verified.",
    ),
) -> None:
    """Receive webhooks on http://127.0.0.1:PORT/ and check their signatures (development).

    Example: `syndicate receive --port 18110 --secret whsec_...`
    """
    if secret:
        from worker.webhooks.signing import InvalidSecret, secret_key

        try:
            secret_key(secret)
        except InvalidSecret as exc:
            fail(f"--secret: {exc}", code=2)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = self.headers.get("content-length", "0")
            if not length.isdigit() or int(length) > MAX_BODY:
                self.send_response(413)
                self.end_headers()
                return
            body = self.rfile.read(int(length))
            headers = {k.lower(): v for k, v in self.headers.items()}
            problem = check(secret, headers, body, time.time()) if secret else None
            status = 401 if problem else 204
            self.send_response(status)
            self.end_headers()
            verdict = "NOT VERIFIED: " + problem if problem else ("verified" if secret else "unchecked")
            hook = headers.get("webhook-id", "-")
            print(f"{self.path} {status} {verdict} webhook-id={hook} {describe(body)}", flush=True)

        def log_message(self, *args: object) -> None:  # one line per request is printed above
            pass

    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    except OSError as exc:
        fail(f"--port {port}: cannot listen on 127.0.0.1:{port}: {exc.strerror}")
    note = "" if secret else " (signatures not checked: pass --secret whsec_...)"
    print(f"listening on http://127.0.0.1:{port}/{note}; Ctrl-C to stop", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    sys.stdout.flush()
