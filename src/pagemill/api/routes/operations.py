"""Operations: health, readiness, Prometheus metrics and the admin view of stuck steps."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from pagemill.api import wire
from pagemill.api.deps import ServicesDep
from pagemill.api.errors import error_responses, validation_body
from pagemill.domain.errors import ServiceUnavailable
from pagemill.domain.models import StepRun

router = APIRouter(tags=["operations"])

ADMIN_TOKEN_HEADER = "X-Admin-Token"  # noqa: S105 - a header name, not a secret


class Unready(BaseModel):
    status: str
    detail: str


@router.get("/healthz", summary="The process is up")
async def healthz() -> Response:
    return wire.json_response({"status": "ok"})


@router.get(
    "/readyz",
    summary="The ledger answers (the live store may be degraded)",
    responses={503: {"model": Unready, "description": "The ledger is unreachable"}},
)
async def readyz(services: ServicesDep) -> Response:
    try:
        return wire.json_response(await services.operations.readiness())
    except ServiceUnavailable as exc:
        return wire.json_response({"status": "unavailable", "detail": exc.detail}, 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
async def metrics(services: ServicesDep) -> Response:
    body, content_type = await services.operations.scrape()
    return Response(body, media_type=content_type)


@router.get(
    "/api/v1/admin/steps",
    summary="Stuck steps (operators; needs X-Admin-Token)",
    responses=error_responses(401, 404, 503),
)
async def stuck_steps(request: Request, services: ServicesDep, state: str = "stuck") -> Response:
    services.operations.authorize_admin(request.headers.get(ADMIN_TOKEN_HEADER))
    if state != "stuck":
        return wire.json_response(validation_body("state must be 'stuck'", ("query", "state")), 422)
    stuck = await services.operations.stuck_steps()
    return wire.json_response(
        {
            "expired_leases": [_step(s) for s in stuck.expired_leases],
            "queued_too_long": [_step(s) for s in stuck.queued_too_long],
            "retried": [_step(s) for s in stuck.retried],
        }
    )


def _step(step: StepRun) -> dict[str, Any]:
    return {
        "execution_id": step.execution_id,
        "step_index": step.step_index,
        "step_type": step.step_type,
        "status": step.status.value,
        "attempt": step.attempt,
        "max_attempts": step.max_attempts,
        "worker": step.lease_owner,
        "heartbeat_at": wire.timestamp(step.heartbeat_at),
        "lease_expires_at": wire.timestamp(step.lease_expires_at),
        "available_at": wire.timestamp(step.available_at),
        "error_message": step.error_message,
    }
