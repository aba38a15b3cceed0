"""Retention settings (pagemill extensions): how long results are kept, per pipeline and team.

An execution's own retention is fixed when it is submitted; these change later runs.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from pagemill.api import wire
from pagemill.api.deps import CallerDep
from pagemill.api.errors import error_responses
from pagemill.api.schemas import PipelineResponse
from pagemill.domain.retention import MAX_RETENTION_SECONDS, MIN_RETENTION_SECONDS

router = APIRouter(tags=["retention"], responses=error_responses(401, 404, 503))


class RetentionRequest(BaseModel):
    retention_seconds: int | None = Field(
        ge=MIN_RETENTION_SECONDS,
        le=MAX_RETENTION_SECONDS,
        description="How long results and checkpoints are kept after an execution ends; "
        "null: inherit (the pipeline from the team, the team from the server)",
    )


class TeamRetention(BaseModel):
    retention_seconds: int | None = Field(description="The team's own; null: the server's")
    server_retention_seconds: int | None = Field(
        description="The server's default; null: kept until deleted"
    )


@router.put(
    "/api/v1/pipelines/{pipeline_id}/retention",
    response_model=PipelineResponse,
    summary="Set Pipeline Retention (pagemill extension)",
)
async def set_pipeline_retention(
    pipeline_id: Annotated[str, Path(max_length=80)], body: RetentionRequest, caller: CallerDep
) -> Response:
    changed = await caller.services.retention.set_pipeline(
        caller.team_id, pipeline_id, body.retention_seconds
    )
    return wire.json_response(wire.pipeline(changed))


def _team_retention(own: int | None, caller: CallerDep) -> Response:
    server = int(caller.services.retention.policy.default_seconds) or None
    return wire.json_response({"retention_seconds": own, "server_retention_seconds": server})


@router.get(
    "/api/v1/teams/current/retention",
    response_model=TeamRetention,
    summary="The team's retention of results (pagemill extension)",
)
async def team_retention(caller: CallerDep) -> Response:
    team = await caller.services.teams.team(caller.team_id)
    return _team_retention(team.retention_seconds, caller)


@router.put(
    "/api/v1/teams/current/retention",
    response_model=TeamRetention,
    summary="Set the team's retention of results (owners and admins; pagemill extension)",
    responses=error_responses(403),
)
async def set_team_retention(body: RetentionRequest, caller: CallerDep) -> Response:
    own = await caller.services.retention.policy.set_team(
        caller.team_id, body.retention_seconds, actor=await caller.current_role()
    )
    return _team_retention(own, caller)
