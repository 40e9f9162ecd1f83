"""The ASGI application: ``syndicate serve`` runs it on uvicorn."""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from worker.nudger import nudger as celery_nudger
from worker.runtime import Nudger, Runtime, runtime
from worker.storage import StorageUnavailable
from worker.web import articles, docs, feedroutes, hooks, ops
from worker.web.common import ApiError, error_response
from worker.web.fastfeeds import FeedFastPath
from worker.web.guard import InternalErrors, RequestGuard

log = logging.getLogger("syndicate.web")


def create_app(rt: Runtime | None = None, nudger: Nudger | None = None) -> FastAPI:
    app = FastAPI(
        title="syndicate",
        version="0.1.0",
        description="Geo-aware syndication: articles in; feeds and signed webhooks out, per audience.",
        docs_url=None,  # /docs is worker.web.docs: Swagger UI's assets served locally, not from a CDN
        redoc_url=None,  # it would load from a CDN: /docs is the page
    )
    app.state.runtime = rt or runtime()
    settings = app.state.runtime.settings
    if settings.default_geo_headers:
        log.warning(
            "SYNDICATE_GEO_HEADERS is the default list (%s): CloudFront's and Cloudflare's headers are "
            "both trusted, so a client behind one CDN can choose its audience by sending the other's "
            "header; list only the headers your CDN sets and overwrites",
            settings.geo_headers,
        )
    app.state.nudger = nudger or celery_nudger

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(StorageUnavailable)
    async def _storage(_: Request, exc: StorageUnavailable) -> JSONResponse:
        log.warning("storage unavailable: %s", exc)
        return JSONResponse(
            {"error": "storage_unavailable", "detail": "redis does not answer; retry later"},
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        """Starlette's own errors (unknown route, wrong method, unreadable body) in our shape."""
        try:
            error = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_").replace("-", "_")
        except ValueError:
            error = "error"
        return JSONResponse(
            {"error": error, "detail": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        detail = (
            f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg", "invalid request"))
        )
        return JSONResponse({"error": "invalid_request", "detail": detail}, status_code=422)

    for router in (feedroutes.router, articles.router, hooks.router, ops.router, docs.router):
        app.include_router(router)
    # Inside Starlette's own error layer, so that a route's exception becomes our JSON 500.
    app.add_middleware(InternalErrors)
    return app


def create_server(rt: Runtime | None = None, nudger: Nudger | None = None) -> InternalErrors:
    """What ``syndicate serve`` runs: the application behind the feed fast path, which answers
    feed GETs from the in-process cache before any routing (Starlette's own stack costs a third of
    a cached 304's time) and hands every other request to the application."""
    app = create_app(rt, nudger)
    runtime: Runtime = app.state.runtime
    # Writes are refused (401) or their bodies read within a deadline before anything else runs.
    return InternalErrors(RequestGuard(FeedFastPath(app, runtime), lambda: runtime.settings))


def create_server_process() -> InternalErrors:
    """``create_server`` with JSON logs: what each ``syndicate serve`` process runs (uvicorn
    imports it by name in every process of ``--workers N``)."""
    from worker.logs import setup_logging

    setup_logging("INFO")
    return create_server()
