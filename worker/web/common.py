"""Shared pieces of the HTTP API: errors, authentication, the runtime."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer

from worker.runtime import Nudger, Runtime
from worker.web.guard import token_matches


class ApiError(Exception):
    def __init__(self, status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail, self.headers = status, error, detail, headers


def error_response(exc: ApiError) -> JSONResponse:
    return JSONResponse(
        {"error": exc.error, "detail": exc.detail}, status_code=exc.status, headers=exc.headers
    )


def rt_of(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def nudger_of(request: Request) -> Nudger:
    nudge: Nudger = request.app.state.nudger
    return nudge


# Declares the scheme in /openapi.json (components.securitySchemes, and `security` on each route
# that depends on require_token); the check itself is require_token's.
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearerToken",
    description="SYNDICATE_API_TOKEN (`make run` keeps one in var/api-token)",
)


def require_token(request: Request, _declared: object = Security(bearer_scheme)) -> None:
    """Bearer token check, constant-time; the token is never echoed back."""
    expected = rt_of(request).settings.api_token
    if not expected:
        raise ApiError(
            401, "unauthorized", "the server has no SYNDICATE_API_TOKEN configured; writes are refused"
        )
    if not token_matches(expected, request.headers.get("authorization", "")):
        raise ApiError(401, "unauthorized", "missing or invalid bearer token", {"WWW-Authenticate": "Bearer"})


def json_error_schema() -> dict[str, Any]:
    return {
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
                    "required": ["error", "detail"],
                }
            }
        }
    }
