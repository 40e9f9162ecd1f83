"""``POST /articles``, ``GET /articles/{id}`` and ``DELETE /articles/{id}`` (a kill)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from worker import pipeline
from worker.models import RawInput
from worker.normalize import NormalizeError, jsontext
from worker.normalize.magic import HINT, non_article_kind
from worker.storage import StorageUnavailable
from worker.web.common import ApiError, json_error_schema, nudger_of, require_token, rt_of

router = APIRouter(tags=["articles"])
FORMATS = {"application/json": "json", "text/html": "html", "text/plain": "text"}
META = ("source", "url", "published_at", "section", "language", "embargoed_until", "expires_at")

_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object", "additionalProperties": True}},
            "text/html": {"schema": {"type": "string"}},
            "text/plain": {"schema": {"type": "string"}},
        },
    },
    "parameters": [
        *({"name": n, "in": "query", "required": False, "schema": {"type": "string"}} for n in META),
        {
            "name": "restore",
            "in": "query",
            "required": False,
            "description": "1: bring back an article withdrawn by DELETE /articles/{id}",
            "schema": {"type": "string"},
        },
    ],
    "responses": {
        str(c): {"description": d, **json_error_schema()}
        for c, d in [
            (400, "malformed JSON"),
            (401, "missing or invalid token"),
            (413, "body over the size limit"),
            (415, "unsupported content type"),
            (422, "invalid article"),
            (503, "storage unavailable"),
        ]
    },
}


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ApiError(400, "bad_request", f"Content-Length '{declared[:40]}' is not a number")
        if int(declared) > limit:
            raise ApiError(413, "too_large", f"body of {declared} bytes is over the limit of {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "too_large", f"body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/articles", status_code=202, dependencies=[Depends(require_token)], openapi_extra=_BODY_DOC)
async def post_article(request: Request) -> JSONResponse:
    """Accept one article; ``202`` only once it is safely in Redis."""
    rt = rt_of(request)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fmt = FORMATS.get(media)
    if fmt is None:
        expected = ", ".join(FORMATS)
        raise ApiError(
            415, "unsupported_media_type", f"content type '{media or '(none)'}' is not one of {expected}"
        )
    raw_bytes = await _read_body(request, rt.settings.max_body_bytes)
    kind = non_article_kind(raw_bytes)
    if kind is not None:
        raise ApiError(415, "unsupported_media_type", f"{kind} are not supported: {HINT}")
    try:
        body = raw_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(
            422, "invalid_encoding", f"body is not valid UTF-8 (byte {exc.start}): {HINT}"
        ) from None
    if fmt == "json":
        try:
            doc = jsontext.loads(body)
        except NormalizeError as exc:  # an integer too long for Python to convert
            raise ApiError(422, "invalid_article", str(exc)) from None
        except json.JSONDecodeError as exc:
            raise ApiError(
                400, "malformed_json", f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
            ) from None
        except RecursionError:
            raise ApiError(400, "malformed_json", "invalid JSON: nested too deeply") from None
        if not isinstance(doc, dict):
            raise ApiError(422, "invalid_article", "the JSON body must be an object (an article)")
    meta = {k: v for k in META if (v := request.query_params.get(k))}
    raw = RawInput(format=fmt, body=body, **meta)  # type: ignore[arg-type]
    from starlette.concurrency import run_in_threadpool

    try:
        article = await run_in_threadpool(pipeline.accept, rt, raw, restore=_flag(request, "restore"))
    except NormalizeError as exc:
        raise ApiError(422, "invalid_article", str(exc)) from None
    except StorageUnavailable:
        raise ApiError(
            503, "storage_unavailable", "the article could not be stored; retry later", {"Retry-After": "5"}
        ) from None
    await run_in_threadpool(nudger_of(request).ingest, [article.id])
    return JSONResponse({"id": article.id, "status": "queued"}, status_code=202)


def _flag(request: Request, name: str) -> bool:
    value = request.query_params.get(name, "0").strip().lower()
    if value not in ("0", "1", "true", "false", ""):
        raise ApiError(422, "invalid_parameter", f"{name}: {value[:40]!r} is not 0 or 1")
    return value in ("1", "true")


@router.get("/articles/{article_id}", dependencies=[Depends(require_token)])
def get_article(article_id: str, request: Request) -> dict[str, Any]:
    """``queued``, ``embargoed`` (with ``embargoed_until``), ``published``, ``rejected`` or
    ``withdrawn`` (with ``reason`` when its life cycle withdrew it: ``expired``, a kill's reason)."""
    doc = pipeline.article_status(rt_of(request).store, article_id)
    if doc is None:
        raise ApiError(404, "not_found", f"no article with id '{article_id}'")
    return doc


@router.delete("/articles/{article_id}", dependencies=[Depends(require_token)])
def delete_article(article_id: str, request: Request, reason: str | None = None) -> dict[str, Any]:
    """Kill the article: out of every feed and archive page within seconds, ``article.withdrawn``
    to every subscription that was sent it; a re-ingest does not bring it back unless
    ``POST /articles?restore=1`` (or ``syndicate withdraw --undo``) says so."""
    rt = rt_of(request)
    try:
        found = pipeline.withdraw(rt, article_id, reason, nudger_of(request))
    except ValueError as exc:
        raise ApiError(422, "invalid_parameter", str(exc)) from None
    except StorageUnavailable:
        raise ApiError(
            503, "storage_unavailable", "the withdrawal could not be stored; retry", {"Retry-After": "5"}
        ) from None
    if not found:
        raise ApiError(404, "not_found", f"no article with id '{article_id}'")
    doc = pipeline.article_status(rt.store, article_id)
    assert doc is not None
    return doc
