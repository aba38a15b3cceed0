"""Pipeline definitions: create, list, get, update, save, archive, versions, discard, rate."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Response

from pagemill.api import wire
from pagemill.api.deps import CallerDep
from pagemill.api.errors import error_responses
from pagemill.api.schemas import (
    MAX_INT,
    CreatePipelineRequest,
    CreatePipelineVersionRequest,
    DiscardDraftRequest,
    PipelineListResponse,
    PipelineResponse,
    PipelineStep,
    PipelineVersionListResponse,
    PipelineVersionResponse,
    SavePipelineRequest,
    UpdatePipelineRequest,
)

router = APIRouter(
    prefix="/api/v1/pipelines", tags=["pipelines"], responses=error_responses(401, 404, 503)
)
CONFLICT = error_responses(400)

PipelineId = Annotated[str, Path(max_length=80, description="The pipeline id (pl_…)")]


def _steps(steps: list[PipelineStep]) -> list[dict[str, Any]]:
    # Echo what the client sent, no more: unset optional keys stay absent.
    return [step.model_dump(exclude_unset=True) for step in steps]


@router.post("", response_model=PipelineResponse, summary="Create Pipeline", responses=CONFLICT)
async def create_pipeline(body: CreatePipelineRequest, caller: CallerDep) -> Response:
    created = await caller.services.pipelines.create(caller.team_id, _steps(body.steps))
    return wire.json_response(wire.pipeline(created))


@router.get("", response_model=PipelineListResponse, summary="List Pipelines")
async def list_pipelines(
    caller: CallerDep,
    saved_only: bool = True,
    include_archived: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> Response:
    items, total = await caller.services.pipelines.list_pipelines(
        caller.team_id,
        saved_only=saved_only,
        include_archived=include_archived,
        limit=limit,
        offset=offset,
    )
    return wire.json_response({"pipelines": [wire.pipeline(p) for p in items], "total": total})


@router.get("/{pipeline_id}", response_model=PipelineResponse, summary="Get Pipeline")
async def get_pipeline(pipeline_id: PipelineId, caller: CallerDep) -> Response:
    found = await caller.services.pipelines.get(caller.team_id, pipeline_id)
    return wire.json_response(wire.pipeline(found))


@router.put(
    "/{pipeline_id}", response_model=PipelineResponse, summary="Update Pipeline", responses=CONFLICT
)
async def update_pipeline(
    pipeline_id: PipelineId,
    body: UpdatePipelineRequest,
    caller: CallerDep,
) -> Response:
    updated = await caller.services.pipelines.update_steps(
        caller.team_id, pipeline_id, _steps(body.steps)
    )
    return wire.json_response(wire.pipeline(updated))


@router.put(
    "/{pipeline_id}/save",
    response_model=PipelineResponse,
    summary="Save Pipeline",
    responses=CONFLICT,
)
async def save_pipeline(
    pipeline_id: PipelineId,
    caller: CallerDep,
    body: Annotated[SavePipelineRequest | None, Body()] = None,
) -> Response:
    name = body.name if body is not None else ""
    saved = await caller.services.pipelines.save(caller.team_id, pipeline_id, name)
    return wire.json_response(wire.pipeline(saved))


@router.post(
    "/{pipeline_id}/archive",
    response_model=PipelineResponse,
    summary="Archive Pipeline",
    responses=CONFLICT,
)
async def archive_pipeline(pipeline_id: PipelineId, caller: CallerDep) -> Response:
    changed = await caller.services.pipelines.set_archived(caller.team_id, pipeline_id, True)
    return wire.json_response(wire.pipeline(changed))


@router.post(
    "/{pipeline_id}/unarchive",
    response_model=PipelineResponse,
    summary="Unarchive Pipeline",
    responses=CONFLICT,
)
async def unarchive_pipeline(pipeline_id: PipelineId, caller: CallerDep) -> Response:
    changed = await caller.services.pipelines.set_archived(caller.team_id, pipeline_id, False)
    return wire.json_response(wire.pipeline(changed))


@router.post(
    "/{pipeline_id}/versions",
    response_model=PipelineVersionResponse,
    summary="Create Pipeline Version",
    responses=CONFLICT,
)
async def create_pipeline_version(
    pipeline_id: PipelineId,
    caller: CallerDep,
    body: Annotated[CreatePipelineVersionRequest | None, Body()] = None,
) -> Response:
    description = body.description if body is not None else None
    published = await caller.services.pipelines.publish(caller.team_id, pipeline_id, description)
    return wire.json_response(wire.version(published))


@router.get(
    "/{pipeline_id}/versions",
    response_model=PipelineVersionListResponse,
    summary="List Pipeline Versions",
)
async def list_pipeline_versions(pipeline_id: PipelineId, caller: CallerDep) -> Response:
    versions = await caller.services.pipelines.versions(caller.team_id, pipeline_id)
    return wire.json_response(
        {"versions": [wire.version(v) for v in versions], "total": len(versions)}
    )


@router.post(
    "/{pipeline_id}/discard",
    response_model=PipelineResponse,
    summary="Discard Draft",
    responses=CONFLICT,
)
async def discard_draft(
    pipeline_id: PipelineId,
    caller: CallerDep,
    body: Annotated[DiscardDraftRequest | None, Body()] = None,
) -> Response:
    version = body.version if body is not None else None
    reset = await caller.services.pipelines.discard_draft(caller.team_id, pipeline_id, version)
    return wire.json_response(wire.pipeline(reset))


@router.get("/{pipeline_id}/rate", summary="Get Pipeline Rate")
async def get_pipeline_rate(
    pipeline_id: PipelineId,
    caller: CallerDep,
    processing_location: str | None = None,
) -> Response:
    # One region here: processing_location is accepted and echoed, it changes nothing.
    rate = await caller.services.pipelines.rate(caller.team_id, pipeline_id)
    rate["processing_location"] = processing_location
    return wire.json_response(rate)
