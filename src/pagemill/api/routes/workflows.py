"""Legacy workflows (``/api/v1/workflows/...``): step types, workflow CRUD, execution and its
status, and the signed URLs of step outputs. See ``pagemill.services.workflows``."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from pagemill.api import wire
from pagemill.api.deps import CallerDep, ServicesDep
from pagemill.api.errors import error_responses
from pagemill.api.schemas import ErrorResponse
from pagemill.domain.ids import PUBLIC_NUMBER_MAX
from pagemill.domain.labels import MAX_DESCRIPTION, MAX_NAME
from pagemill.domain.signing import SIGNATURE_LENGTH
from pagemill.domain.workflows import Workflow
from pagemill.services.workflows import ExecutionReport, WorkflowService, step_type_catalog

PREFIX = "/api/v1/workflows"
STEP_VERSION = "1"

router = APIRouter(prefix=PREFIX, tags=["workflows"], responses=error_responses(401, 404, 503))
# The signed output URLs: no API key (the signature is the credential).
output_router = APIRouter(
    prefix=PREFIX,
    tags=["workflows"],
    responses={
        403: {"model": ErrorResponse, "description": "Invalid, forged or expired signature"},
        **error_responses(503),
    },
)

Number = Annotated[int, Path(ge=1, le=PUBLIC_NUMBER_MAX, description="An integer id (random)")]


class WorkflowStepBody(BaseModel):
    step_key: str = Field(max_length=100, description="marker_parse, marker_segment, …")
    unique_name: str = Field(max_length=100)
    settings: dict[str, Any] = Field(default_factory=dict)
    depends_on: list[str] = Field(default_factory=list, max_length=32)
    # Echoed back from an earlier response by the SDK's ``WorkflowStep.to_dict``; not stored.
    id: int | None = None
    version: str | None = Field(default=None, max_length=20)
    name: str | None = Field(default=None, max_length=200)


class CreateWorkflowRequest(BaseModel):
    name: str = Field(min_length=1, max_length=MAX_NAME)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    steps: list[WorkflowStepBody] = Field(min_length=1, max_length=32)


class InputConfigBody(BaseModel):
    file_urls: list[str] | None = Field(default=None, max_length=1000)
    bucket: str | None = Field(default=None, max_length=1000)
    prefix: str | None = Field(default=None, max_length=1000)
    pattern: str | None = Field(default=None, max_length=1000)
    storage_type: str | None = Field(default=None, max_length=20)


class ExecuteWorkflowRequest(BaseModel):
    input_config: InputConfigBody


def workflow_item(w: Workflow) -> dict[str, Any]:
    names = {key: info["name"] for key, info in _catalog().items()}
    return {
        "id": w.workflow_id,
        "name": w.name,
        "description": w.description,
        "team_id": w.team_id,
        "steps": [
            {
                "id": index + 1,
                **step.as_wire(),
                "version": STEP_VERSION,
                "name": names[step.step_key],
            }
            for index, step in enumerate(w.steps)
        ],
        # Extension: the pipeline that runs each root-to-leaf path.
        "paths": [{"steps": list(p.steps), "pipeline_id": p.pipeline_id} for p in w.paths],
        "created": wire.timestamp(w.created),
        "updated": wire.timestamp(w.updated),
    }


def _catalog() -> dict[str, dict[str, Any]]:
    return {item["type"]: item for item in step_type_catalog(STEP_VERSION)}


@router.get("/step-types", summary="List Step Types")
async def list_step_types(caller: CallerDep) -> Response:
    return wire.json_response({"step_types": list(_catalog().values())})


@router.post("/workflows", summary="Create Workflow", responses=error_responses(400))
async def create_workflow(body: CreateWorkflowRequest, caller: CallerDep) -> Response:
    steps = [
        s.model_dump(include={"step_key", "unique_name", "settings", "depends_on"})
        for s in body.steps
    ]
    created = await caller.services.workflows.create(
        caller.team_id, body.name, body.description, steps
    )
    return wire.json_response(workflow_item(created))


@router.get("/workflows", summary="List Workflows")
async def list_workflows(caller: CallerDep) -> Response:
    items = await caller.services.workflows.list_all(caller.team_id)
    return wire.json_response({"workflows": [workflow_item(w) for w in items]})


@router.get("/workflows/{workflow_id}", summary="Get Workflow")
async def get_workflow(workflow_id: Number, caller: CallerDep) -> Response:
    found = await caller.services.workflows.get(caller.team_id, workflow_id)
    return wire.json_response(workflow_item(found))


@router.delete(
    "/workflows/{workflow_id}", summary="Delete Workflow", responses=error_responses(400)
)
async def delete_workflow(workflow_id: Number, caller: CallerDep) -> Response:
    await caller.services.workflows.delete(caller.team_id, workflow_id)
    return wire.json_response(
        {"success": True, "message": f"Workflow {workflow_id} deleted successfully"}
    )


@router.post(
    "/workflows/{workflow_id}/execute",
    summary="Execute Workflow",
    responses=error_responses(400, 413, 415, 429),
)
async def execute_workflow(
    workflow_id: Number, body: ExecuteWorkflowRequest, request: Request, caller: CallerDep
) -> Response:
    config = body.input_config.model_dump(exclude_none=True)
    started = await caller.services.workflows.execute(caller.team_id, workflow_id, config)
    report = await caller.services.workflows.report(caller.team_id, started.execution_id)
    return wire.json_response(_report(report, request, caller.services.workflows))


@router.get("/executions/{workflow_execution_id}", summary="Get Execution Status")
async def get_execution_status(
    workflow_execution_id: Number, request: Request, caller: CallerDep
) -> Response:
    report = await caller.services.workflows.report(caller.team_id, workflow_execution_id)
    return wire.json_response(_report(report, request, caller.services.workflows))


@output_router.get(
    "/outputs/{team_id}/{execution_id}/{step_index}",
    name="workflow_output",
    summary="Get Step Output (signed URL)",
    openapi_extra={"security": []},
)
async def get_output(
    team_id: Annotated[str, Path(max_length=64)],
    execution_id: Annotated[str, Path(max_length=80)],
    step_index: Annotated[int, Path(ge=0, le=1000)],
    expires: Annotated[int, Query(ge=0, le=2**40)],
    signature: Annotated[str, Query(max_length=SIGNATURE_LENGTH)],
    services: ServicesDep,
) -> Response:
    result = await services.workflows.signed_output(
        team_id, execution_id, step_index, expires, signature
    )
    if isinstance(result, bytes):
        return Response(result, media_type="application/json")
    return wire.json_response(result)


def _report(
    report: ExecutionReport, request: Request, workflows: WorkflowService
) -> dict[str, Any]:
    execution = report.execution
    steps: dict[str, dict[str, Any]] = {}
    for out in report.steps:
        entry: dict[str, Any] = {"status": out.status}
        if out.started_at is not None:
            entry["started_at"] = wire.timestamp(out.started_at)
        if out.completed_at is not None:
            entry["completed_at"] = wire.timestamp(out.completed_at)
        if out.status == "COMPLETED":
            expires, signature = workflows.output_signature(
                execution.team_id, out.file_key, out.step_index
            )
            path = request.app.url_path_for(
                "workflow_output",
                team_id=execution.team_id,
                execution_id=out.file_key,
                step_index=str(out.step_index),
            )
            base = workflows.public_url or str(request.base_url)
            query = urlencode({"expires": expires, "signature": signature})
            entry["output_url"] = f"{base.rstrip('/')}{path}?{query}"
        if out.error:
            entry["error"] = out.error
        step = steps.setdefault(out.unique_name, {})
        step[out.file_key] = entry
    for name, per_file in steps.items():
        # The documented shape is flat (status, output_url…); per input file the same fields
        # are keyed by the pipeline execution that ran the step. With one file the flat fields
        # are that file's; with several, the status is the least advanced one.
        files = list(per_file.values())
        flat = dict(files[0]) if len(files) == 1 else {"status": _least(files)}
        steps[name] = {**flat, **per_file}
    return {
        "execution_id": execution.execution_id,
        "id": execution.execution_id,
        "workflow_id": execution.workflow_id,
        "status": report.status,
        "success": report.status != "FAILED",
        "error": report.error,
        "input_config": execution.input_config,
        "steps": steps,
        "created": wire.timestamp(execution.created),
        "updated": wire.timestamp(report.updated),
    }


_ORDER = ("FAILED", "CANCELLED", "PENDING", "QUEUED", "IN_PROGRESS", "SKIPPED", "COMPLETED")


def _least(entries: list[dict[str, Any]]) -> str:
    return min((str(e["status"]) for e in entries), key=_ORDER.index)
