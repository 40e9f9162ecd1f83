"""Feed GETs answered from the in-process cache at the ASGI level, before any routing.

The feed routes are what readers, aggregators and the CDN hit most, and nearly always for a feed
this process has already served. A request that names a known audience and section and whose
feed is in the cache (``worker.storage.feedcache``, kept current by Redis invalidations) is
answered here, with the same ``feeds.serve.reply`` the routes use; anything else (a miss, an
unknown name, an error, every other route) goes on to the application unchanged, which answers
it and fills the cache.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from feeds.serve import reply
from worker.geo import merged_headers
from worker.runtime import Runtime
from worker.web.common import ApiError
from worker.web.feedroutes import locate


class FeedFastPath:
    def __init__(self, app: ASGIApp, rt: Runtime) -> None:
        self.app, self.rt = app, rt
        self.cache = rt.feed_cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and scope["path"].startswith("/feeds/")
            and self.cache.live
        ):
            answer = self._answer(scope)
            if answer is not None:
                status, headers, body = answer
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    def _answer(self, scope: Scope) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        req = merged_headers(scope["headers"])
        parts = scope["path"][len("/feeds/") :].split("/")
        try:
            target = locate(self.rt, parts, req, self.cache.cached_sections)
        except ApiError:
            return None  # the routes answer it, with the same error
        stored = None if target is None else self.cache.cached(target.feed, target.fmt)
        if target is None or stored is None:
            return None
        r = reply(req, stored, target.fmt, vary=target.vary, public=target.public, links=target.links)
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in r.headers.items()]
        return r.status, headers, b"" if scope["method"] == "HEAD" else r.body
