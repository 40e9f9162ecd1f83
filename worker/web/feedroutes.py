"""Feed routes: stored bytes only, never a render on the request path."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from feeds.serve import FeedBytes, reply, split_name
from worker.geo import audience_from_headers
from worker.web.common import ApiError, rt_of

router = APIRouter(tags=["feeds"])


def _serve(request: Request, audience: str, name: str, vary: list[str] | None = None) -> Response:
    rt = rt_of(request)
    parsed = split_name(name)
    if parsed is None:
        raise ApiError(
            404, "not_found", f"'{name}' is not a feed: expected SECTION.rss, SECTION.atom or SECTION.json"
        )
    section, fmt = parsed
    if rt.config.audience(audience) is None:
        raise ApiError(404, "not_found", f"unknown audience '{audience}'")
    if section != "all" and section not in rt.store.sections():
        raise ApiError(404, "not_found", f"unknown section '{section}'")
    stored = rt.store.feed(f"{audience}/{section}", fmt)
    if stored is None:
        raise ApiError(
            404,
            "not_found",
            f"feed {audience}/{section}.{fmt} has not been rendered yet",
            {"Retry-After": "2"},
        )
    req = {k.lower(): v for k, v in request.headers.items()}
    r = reply(
        req,
        FeedBytes(stored.body, stored.etag, stored.last_modified, stored.last_modified_ts),
        fmt,
        vary=vary,
    )
    body = b"" if request.method == "HEAD" else r.body
    return Response(content=body, status_code=r.status, headers=r.headers)


@router.api_route("/feeds/{audience}/{name}", methods=["GET", "HEAD"])
def feed_for_audience(audience: str, name: str, request: Request) -> Response:
    """One audience's feed: ``/feeds/ru/all.rss``."""
    return _serve(request, audience, name)


@router.api_route("/feeds/{name}", methods=["GET", "HEAD"])
def feed_by_location(name: str, request: Request) -> Response:
    """The feed for the reader's region, from the trusted CDN geo headers."""
    rt = rt_of(request)
    names = rt.settings.geo_header_names
    audience = audience_from_headers(rt.config.audiences, names, request.headers)
    return _serve(request, audience.id, name, vary=names)
