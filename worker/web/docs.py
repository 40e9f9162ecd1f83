"""``/docs``: Swagger UI from assets served here (the ``swagger-ui-bundle-v2`` package ships
them), so the page works without internet access; and the feeds' XSL stylesheet."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from feeds.xmlfeeds import STYLESHEET_FILE, STYLESHEET_PATH

router = APIRouter(include_in_schema=False)
ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")


def _assets_dir() -> Path:
    from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

    return Path(swagger_ui_path)


@router.get("/docs")
def docs(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url or "/openapi.json",
        title=f"{request.app.title} API",
        swagger_js_url="/docs/assets/swagger-ui-bundle.js",
        swagger_css_url="/docs/assets/swagger-ui.css",
        swagger_favicon_url="/docs/assets/favicon-32x32.png",
    )


@router.get(STYLESHEET_PATH)
def feed_stylesheet() -> Response:
    """The XSL stylesheet that RSS and Atom feeds name, so a browser shows them as a page."""
    return FileResponse(
        STYLESHEET_FILE, media_type="text/xsl", headers={"Cache-Control": "public, max-age=3600"}
    )


@router.get("/docs/assets/{name}")
def docs_asset(name: str) -> Response:
    if name not in ASSETS:  # a fixed list: no path from the request reaches the file system
        return JSONResponse({"error": "not_found", "detail": f"no asset '{name}'"}, status_code=404)
    return FileResponse(_assets_dir() / name, headers={"Cache-Control": "public, max-age=86400"})
