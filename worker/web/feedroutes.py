"""Feed routes: stored bytes only, never a render on the request path.

``locate`` turns a feed path into the stored feed's name; the routes and the in-memory fast path
(``worker.web.fastfeeds``) both use it, so they accept and refuse exactly the same paths.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from fastapi import APIRouter, Request, Response

from feeds import formats
from feeds.feedkey import FeedKey
from feeds.serve import reply, split_name
from worker.geo import merged_headers, strict_variant
from worker.runtime import Runtime
from worker.web.common import ApiError, rt_of

router = APIRouter(tags=["feeds"])


@dataclass(frozen=True)
class FeedTarget:
    key: FeedKey  # the stored feed: ru/all, ru/all@3 for archive page 3, ru/all~ua for a variant
    fmt: str
    vary: list[str] | None = None  # request headers the answer depends on (the geo route's)
    public: bool = True  # Cache-Control: public (shared caches may keep it) or private
    links: str = ""  # the HTTP Link header: rel="hub" (current feeds) and rel="self" (WebSub)

    @property
    def feed(self) -> str:
        return str(self.key)


def _not_found(detail: str) -> ApiError:
    return ApiError(404, "not_found", detail)


def _parse(name: str, what: str) -> tuple[str, str]:
    parsed = split_name(name)
    if parsed is None:
        raise _not_found(f"'{name}' is not a feed: expected {formats.expected_names(what)}")
    return parsed


def locate(
    rt: Runtime,
    parts: list[str],
    headers: Mapping[str, str],
    sections: Callable[[], Mapping[str, str] | None],
) -> FeedTarget | None:
    """The feed that ``/feeds/PARTS...`` names; ``ApiError`` 404 for a path that names none.

    ``headers`` has lower-case names. Returns None only when ``sections()`` returns None (the
    fast path's "not known without a Redis read"): the caller cannot decide here.
    """
    vary: list[str] | None = None
    page: int | None = None
    variant: str | None = None
    if len(parts) == 1:  # /feeds/all.rss: the audience from the trusted CDN geo headers
        section, fmt = _parse(parts[0], "SECTION")
        names = rt.settings.geo_header_names
        geo = {name: headers.get(name.lower(), "") for name in names}
        strict = rt.settings.geo_unknown_subdivision == "strict"
        reader, variant = strict_variant(rt.config.audiences, names, geo, strict)
        audience, vary = reader.id, names
    elif len(parts) == 2:  # /feeds/ru/all.rss
        audience, (section, fmt) = parts[0], _parse(parts[1], "SECTION")
    elif len(parts) == 4 and parts[2] == "archive":  # /feeds/ru/all/archive/3.atom
        audience, section = parts[0], parts[1]
        number, fmt = _parse(parts[3], "PAGE")
        if not (number.isascii() and number.isdigit()) or int(number) < 1:
            expected = formats.get(fmt).file_name("PAGE")
            raise _not_found(f"'{parts[3]}' is not an archive page: expected {expected}, PAGE >= 1")
        page = int(number)
    else:
        raise _not_found("no such feed: expected /feeds/AUDIENCE/SECTION.FORMAT")
    if rt.config.audience(audience) is None:
        raise _not_found(f"unknown audience '{audience}'")
    if section != "all":
        known = sections()
        if known is None:
            return None
        if section not in known:
            raise _not_found(f"unknown section '{section}'")
    key = FeedKey(audience, section, page, variant)  # a variant: worker.publish_strict
    return FeedTarget(key, fmt, vary, vary is None or rt.settings.geo_cache_public, _links(rt, key, fmt))


def _links(rt: Runtime, key: FeedKey, fmt: str) -> str:
    """``Link: <hub>; rel="hub", <self>; rel="self"``: WebSub wants them in the HTTP answer; the
    self URL is the one the document gives (archive pages have no hubs, variants the audience's)."""
    hubs = [] if key.page is not None else rt.settings.hubs
    parts = [f'<{hub}>; rel="hub"' for hub in hubs]
    # Percent-encoded: a header is latin-1, and a section's slug may be Cyrillic (it was a 500).
    parts.append(f'<{key.url(rt.settings.base_url, fmt, encoded=True)}>; rel="self"')
    return ", ".join(parts)


def _serve(request: Request, *parts: str) -> Response:
    rt = rt_of(request)
    req = merged_headers(request.headers.raw)
    target = locate(rt, list(parts), req, rt.feed_cache.sections)
    assert target is not None  # feed_cache.sections() always answers (or raises)
    stored = rt.feed_cache.feed(target.feed, target.fmt)
    if stored is None:
        key = target.key
        if key.page is not None and rt.store.archive_retired(key.index) >= key.page:
            detail = f"archive page {key.page} of {key.current} was retired (SYNDICATE_RETENTION_DAYS)"
            raise ApiError(410, "gone", detail)
        if key.page is not None:
            raise _not_found(f"archive page {key.page} of {key.current} does not exist (yet)")
        if key.variant:  # a strict variant not rendered since the setting was turned on
            rt.store.mark_dirty([str(key.current)])
            request.app.state.nudger.publish()
        raise ApiError(
            404,
            "not_found",
            f"feed {formats.get(target.fmt).file_name(target.feed)} has not been rendered yet",
            {"Retry-After": "2"},
        )
    r = reply(req, stored, target.fmt, vary=target.vary, public=target.public, links=target.links)
    body = b"" if request.method == "HEAD" else r.body
    return Response(content=body, status_code=r.status, headers=r.headers)


@router.get("/feeds/{audience}/{name}")
@router.head("/feeds/{audience}/{name}", operation_id="head_feed_for_audience", include_in_schema=False)
def feed_for_audience(audience: str, name: str, request: Request) -> Response:
    """One audience's feed: ``/feeds/ru/all.rss``."""
    return _serve(request, audience, name)


@router.get("/feeds/{audience}/{section}/archive/{name}")
@router.head(
    "/feeds/{audience}/{section}/archive/{name}", operation_id="head_archive", include_in_schema=False
)
def feed_archive_page(audience: str, section: str, name: str, request: Request) -> Response:
    """An RFC 5005 archive page, e.g. ``/feeds/global/all/archive/1.atom``; full pages never change."""
    return _serve(request, audience, section, "archive", name)


@router.get("/feeds/{name}")
@router.head("/feeds/{name}", operation_id="head_feed_by_location", include_in_schema=False)
def feed_by_location(name: str, request: Request) -> Response:
    """The feed for the reader's region, from the trusted CDN geo headers."""
    return _serve(request, name)
