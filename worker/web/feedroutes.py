"""Feed routes: stored bytes only, never a render on the request path."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from feeds.serve import reply, split_name
from worker.geo import audience_from_headers
from worker.web.common import ApiError, rt_of

router = APIRouter(tags=["feeds"])


def _parse(name: str, what: str) -> tuple[str, str]:
    parsed = split_name(name)
    if parsed is None:
        raise ApiError(
            404, "not_found", f"'{name}' is not a feed: expected {what}.rss, {what}.atom or {what}.json"
        )
    return parsed


def _serve(
    request: Request,
    audience: str,
    section: str,
    fmt: str,
    *,
    page: int | None = None,
    vary: list[str] | None = None,
) -> Response:
    rt = rt_of(request)
    if rt.config.audience(audience) is None:
        raise ApiError(404, "not_found", f"unknown audience '{audience}'")
    if section != "all" and section not in rt.feed_cache.sections():
        raise ApiError(404, "not_found", f"unknown section '{section}'")
    feed = f"{audience}/{section}" if page is None else f"{audience}/{section}@{page}"
    req = {k.lower(): v for k, v in request.headers.items()}
    stored = rt.feed_cache.feed(feed, fmt)
    if stored is None:
        if page is not None:
            raise ApiError(
                404, "not_found", f"archive page {page} of {audience}/{section} does not exist (yet)"
            )
        raise ApiError(404, "not_found", f"feed {feed}.{fmt} has not been rendered yet", {"Retry-After": "2"})
    r = reply(req, stored, fmt, vary=vary)
    body = b"" if request.method == "HEAD" else r.body
    return Response(content=body, status_code=r.status, headers=r.headers)


@router.get("/feeds/{audience}/{name}")
@router.head("/feeds/{audience}/{name}", operation_id="head_feed_for_audience", include_in_schema=False)
def feed_for_audience(audience: str, name: str, request: Request) -> Response:
    """One audience's feed: ``/feeds/ru/all.rss``."""
    section, fmt = _parse(name, "SECTION")
    return _serve(request, audience, section, fmt)


@router.get("/feeds/{audience}/{section}/archive/{name}")
@router.head(
    "/feeds/{audience}/{section}/archive/{name}", operation_id="head_archive", include_in_schema=False
)
def feed_archive_page(audience: str, section: str, name: str, request: Request) -> Response:
    """An RFC 5005 archive page, e.g. ``/feeds/global/all/archive/1.atom``; full pages never change."""
    page, fmt = _parse(name, "PAGE")
    if not (page.isascii() and page.isdigit()) or int(page) < 1:
        raise ApiError(404, "not_found", f"'{name}' is not an archive page: expected PAGE.{fmt}, PAGE >= 1")
    return _serve(request, audience, section, fmt, page=int(page))


@router.get("/feeds/{name}")
@router.head("/feeds/{name}", operation_id="head_feed_by_location", include_in_schema=False)
def feed_by_location(name: str, request: Request) -> Response:
    """The feed for the reader's region, from the trusted CDN geo headers."""
    rt = rt_of(request)
    section, fmt = _parse(name, "SECTION")
    names = rt.settings.geo_header_names
    audience = audience_from_headers(rt.config.audiences, names, request.headers)
    return _serve(request, audience.id, section, fmt, vary=names)
