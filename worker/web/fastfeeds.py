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

from feeds.serve import reply, split_name
from worker.geo import audience_from_headers
from worker.runtime import Runtime


class FeedFastPath:
    def __init__(self, app: ASGIApp, rt: Runtime) -> None:
        self.app, self.rt = app, rt
        self.cache = rt.feed_cache
        self.geo_names = rt.settings.geo_header_names

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
        req = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        target = self._target(scope["path"][len("/feeds/") :].split("/"), req)
        if target is None:
            return None
        feed, fmt, vary = target
        stored = self.cache.cached(feed, fmt)
        if stored is None:
            return None
        r = reply(req, stored, fmt, vary=vary)
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in r.headers.items()]
        return r.status, headers, b"" if scope["method"] == "HEAD" else r.body

    def _target(self, parts: list[str], req: dict[str, str]) -> tuple[str, str, list[str] | None] | None:
        """(feed, format, Vary names) for a well-formed feed path; None sends it to the routes."""
        vary: list[str] | None = None
        page = ""
        if len(parts) == 1:  # /feeds/all.rss: the audience from the CDN's geo headers
            parsed = split_name(parts[0])
            if parsed is None:
                return None
            geo = {name: req.get(name.lower(), "") for name in self.geo_names}
            audience = audience_from_headers(self.rt.config.audiences, self.geo_names, geo).id
            vary = self.geo_names
        elif len(parts) == 2:  # /feeds/ru/all.rss
            audience, parsed = parts[0], split_name(parts[1])
        elif len(parts) == 4 and parts[2] == "archive":  # /feeds/ru/all/archive/3.atom
            audience, parsed = parts[0], split_name(parts[3])
            if parsed is None or not (parsed[0].isascii() and parsed[0].isdigit()) or int(parsed[0]) < 1:
                return None
            page, parsed = f"@{int(parsed[0])}", (parts[1], parsed[1])
        else:
            return None
        if parsed is None or self.rt.config.audience(audience) is None:
            return None
        section, fmt = parsed
        if section != "all":
            sections = self.cache.cached_sections()
            if sections is None or section not in sections:
                return None
        return f"{audience}/{section}{page}", fmt, vary
