"""Subscription and delivery routes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from worker import subscriptions as subs
from worker.models import Delivery, DeliveryStatus, Subscription
from worker.web.common import ApiError, nudger_of, require_token, rt_of

router = APIRouter(tags=["webhooks"], dependencies=[Depends(require_token)])


def _sub(request: Request, sub_id: str) -> Subscription:
    sub = rt_of(request).store.subscription(sub_id)
    if sub is None:
        raise ApiError(404, "not_found", f"no subscription with id '{sub_id}'")
    return sub


def _refuse(exc: ValueError) -> ApiError:
    return ApiError(422, "invalid_subscription", str(exc))


def delivery_view(d: Delivery) -> dict[str, Any]:
    return d.model_dump(mode="json", exclude={"payload_key"})


@router.post("/subscriptions", status_code=201)
def create_subscription(body: subs.SubscriptionIn, request: Request) -> JSONResponse:
    try:
        sub, secret = subs.create(rt_of(request), body)
    except ValueError as exc:
        raise _refuse(exc) from None
    return JSONResponse({**sub.public(), "secret": secret}, status_code=201)


@router.get("/subscriptions")
def list_subscriptions(request: Request) -> dict[str, Any]:
    return {"subscriptions": [s.public() for s in rt_of(request).store.subscriptions()]}


@router.get("/subscriptions/{sub_id}")
def read_subscription(sub_id: str, request: Request) -> dict[str, Any]:
    return _sub(request, sub_id).public()


@router.patch("/subscriptions/{sub_id}")
def patch_subscription(sub_id: str, body: subs.SubscriptionPatch, request: Request) -> dict[str, Any]:
    try:
        return subs.update(rt_of(request), _sub(request, sub_id), body).public()
    except ValueError as exc:
        raise _refuse(exc) from None


@router.delete("/subscriptions/{sub_id}", status_code=204)
def delete_subscription(sub_id: str, request: Request) -> Response:
    if not rt_of(request).store.delete_subscription(sub_id):
        raise ApiError(404, "not_found", f"no subscription with id '{sub_id}'")
    return Response(status_code=204)


@router.post("/subscriptions/{sub_id}/rotate-secret")
def rotate_secret(sub_id: str, request: Request) -> dict[str, Any]:
    _, secret = subs.rotate(rt_of(request), _sub(request, sub_id))
    return {"secret": secret}


@router.get("/subscriptions/{sub_id}/deliveries")
def list_deliveries(
    sub_id: str, request: Request, status: DeliveryStatus | None = None, limit: int = 100
) -> dict[str, Any]:
    """The delivery log, newest first: status, attempts, last response code, duration and the
    first 2 KB of the last response body; ``status`` keeps only deliveries in that state."""
    _sub(request, sub_id)
    rows = rt_of(request).store.deliveries(sub_id, limit=max(1, min(limit, 1000)), status=status)
    return {"deliveries": [delivery_view(d) for d in rows]}


@router.post("/deliveries/{delivery_id}/replay", status_code=202)
def replay_delivery(delivery_id: str, request: Request) -> JSONResponse:
    rt = rt_of(request)
    original = rt.store.delivery(delivery_id)
    if original is None:
        raise ApiError(404, "not_found", f"no delivery with id '{delivery_id}'")
    copy = subs.replay(rt, original, nudger_of(request))
    return JSONResponse(delivery_view(copy), status_code=202)
