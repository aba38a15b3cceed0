"""Webhooks (pagemill extensions): an execution's delivery log and redelivery, and the team's
signing secret.

``router`` is registered before the pipelines router (like ``executions``), so
``/pipelines/executions/{id}/webhooks`` is never taken for a pipeline id. ``teams_router``
serves the secret under ``/api/v1/teams/current``, next to the team routes.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from pagemill.api import wire
from pagemill.api.deps import CallerDep
from pagemill.api.errors import error_responses
from pagemill.domain.webhooks import DeliveryState, WebhookDelivery, WebhookSecret
from pagemill.services.webhooks import WebhookService

router = APIRouter(
    prefix="/api/v1/pipelines", tags=["webhooks"], responses=error_responses(401, 404, 429, 503)
)
teams_router = APIRouter(
    prefix="/api/v1/teams/current", tags=["teams"], responses=error_responses(401, 429, 503)
)

ExecutionId = Annotated[str, Path(max_length=80, description="The execution id (pex_…)")]
DeliveryId = Annotated[str, Path(max_length=80, description="The delivery id (whd_…)")]


class WebhookAttemptItem(BaseModel):
    attempt: int
    started_at: str | None
    duration_ms: int | None
    status_code: int | None = Field(description="The receiver's answer; null: none (see error)")
    error: str | None


class WebhookDeliveryItem(BaseModel):
    delivery_id: str = Field(description="Also the webhook-id header: the same on every attempt")
    event: str = Field(description="execution, or step.<index>")
    type: str | None = Field(description="The payload's type")
    url: str
    state: str = Field(description="pending, sending, delivered or failed")
    attempts_made: int
    next_attempt_at: str | None = Field(description="When a pending delivery is tried next")
    created_at: str | None
    finished_at: str | None = Field(description="When it was delivered or given up")
    last_status_code: int | None
    last_error: str | None
    payload: dict[str, Any] = Field(description="The JSON body sent")
    attempts: list[WebhookAttemptItem]


class WebhookDeliveryList(BaseModel):
    execution_id: str
    deliveries: list[WebhookDeliveryItem]
    total: int


class WebhookSecretInfo(BaseModel):
    secret: str = Field(description="whsec_…: verifies the webhook-signature header")
    created_at: str | None
    rotated_at: str | None
    previous_secret_expires_at: str | None = Field(
        description="Until then webhooks carry a second signature, by the previous secret"
    )


def delivery_item(delivery: WebhookDelivery, service: WebhookService) -> dict[str, Any]:
    pending = delivery.state is DeliveryState.PENDING
    return {
        "delivery_id": delivery.delivery_id,
        "event": delivery.event,
        "type": delivery.payload.get("type"),
        "url": delivery.url,
        "state": delivery.state.value,
        "attempts_made": delivery.attempt,
        "next_attempt_at": wire.timestamp(delivery.next_attempt_at) if pending else None,
        "created_at": wire.timestamp(delivery.created),
        "finished_at": wire.timestamp(delivery.finished_at),
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "payload": service.payload(delivery),
        "attempts": [
            {
                "attempt": a.attempt,
                "started_at": wire.timestamp(a.started_at),
                "duration_ms": a.duration_ms,
                "status_code": a.status_code,
                "error": a.error,
            }
            for a in delivery.attempts
        ],
    }


def secret_info(secret: WebhookSecret) -> dict[str, Any]:
    return {
        "secret": secret.secret,
        "created_at": wire.timestamp(secret.created),
        "rotated_at": wire.timestamp(secret.rotated_at),
        "previous_secret_expires_at": wire.timestamp(secret.previous_expires_at),
    }


@router.get(
    "/executions/{execution_id}/webhooks",
    response_model=WebhookDeliveryList,
    summary="List an execution's webhook deliveries (pagemill extension)",
)
async def list_deliveries(execution_id: ExecutionId, caller: CallerDep) -> Response:
    """Each webhook due for the execution, with every attempt: when, the answer's status or
    the error, how long it took; the next retry of a pending one; the final state."""
    service = caller.services.webhooks
    deliveries = await service.deliveries(caller.team_id, execution_id)
    return wire.json_response(
        {
            "execution_id": execution_id,
            "deliveries": [delivery_item(d, service) for d in deliveries],
            "total": len(deliveries),
        }
    )


@router.post(
    "/executions/{execution_id}/webhooks/{delivery_id}/redeliver",
    status_code=202,
    response_model=WebhookDeliveryItem,
    summary="Redeliver a webhook now (pagemill extension)",
    responses=error_responses(400),
)
async def redeliver(
    execution_id: ExecutionId, delivery_id: DeliveryId, caller: CallerDep
) -> Response:
    """Queue a new attempt now, whatever the delivery's state (400 while an attempt is in
    flight); if it fails, the retry schedule starts over."""
    service = caller.services.webhooks
    delivery = await service.redeliver(caller.team_id, execution_id, delivery_id)
    return wire.json_response(delivery_item(delivery, service), 202)


@teams_router.get(
    "/webhook-secret",
    response_model=WebhookSecretInfo,
    summary="The team's webhook signing secret, created on first use (owners and admins)",
    responses=error_responses(403),
)
async def get_webhook_secret(caller: CallerDep) -> Response:
    secret = await caller.services.webhooks.secret_for(caller.team_id, await caller.current_role())
    return wire.json_response(secret_info(secret))


@teams_router.post(
    "/webhook-secret",
    response_model=WebhookSecretInfo,
    summary="Rotate the team's webhook signing secret (owners and admins)",
    responses=error_responses(403),
)
async def rotate_webhook_secret(caller: CallerDep) -> Response:
    """A new secret signs from now on; the previous one adds a second signature for
    ``PAGEMILL_WEBHOOK_SECRET_ROTATION_GRACE_SECONDS`` (a day by default)."""
    secret = await caller.services.webhooks.rotate_secret(
        caller.team_id, await caller.current_role()
    )
    return wire.json_response(secret_info(secret))
