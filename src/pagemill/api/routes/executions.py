"""Running pipelines and reading executions.

Registered before the pipelines router, so ``/pipelines/executions/{id}`` is never taken for a
pipeline id.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pagemill.api import wire
from pagemill.api.deps import CallerDep
from pagemill.api.errors import error_responses
from pagemill.api.forms import RunFormReader
from pagemill.api.idempotency import IdempotencyKeyHeader, idempotent_request, mark_replayed
from pagemill.api.schemas import (
    MAX_INT,
    PipelineExecutionListResponse,
    PipelineExecutionResponse,
    PipelineStep,
    StoredText,
)
from pagemill.services.executions import RunOptions
from pagemill.services.rerun import RerunRequest

router = APIRouter(
    prefix="/api/v1/pipelines", tags=["pipelines"], responses=error_responses(401, 404, 503)
)

ExecutionId = Annotated[str, Path(max_length=80, description="The execution id (pex_…)")]


class RunForm(BaseModel):
    """The text fields of ``Body_run_pipeline``; booleans accept ``"True"``/``"False"``."""

    model_config = ConfigDict(extra="ignore")

    file_url: StoredText | None = Field(default=None, max_length=4096)
    page_range: StoredText | None = Field(default=None, max_length=2000)
    output_format: StoredText | None = Field(default=None, max_length=100)
    run_evals: bool = False
    skip_cache: bool = False
    webhook_url: StoredText | None = Field(default=None, max_length=4096)
    version: int | None = Field(default=None, ge=0, le=MAX_INT)
    webhook_events: StoredText | None = Field(
        default=None,
        max_length=100,
        description="pagemill extension: which webhooks webhook_url gets, comma-separated: "
        "execution (the default: when the execution ends) and/or step (when each step ends)",
    )

    @field_validator(
        "file_url",
        "page_range",
        "output_format",
        "webhook_url",
        "version",
        "webhook_events",
        mode="before",
    )
    @classmethod
    def _blank_is_absent(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


_RUN_BODY = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "title": "Body_run_pipeline",
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        **RunForm.model_json_schema()["properties"],
                    },
                }
            },
            # A file_url run without a file, as HTTP clients send a form without files.
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "title": "Body_run_pipeline_urlencoded",
                    "properties": RunForm.model_json_schema()["properties"],
                }
            },
        },
        "required": True,
    }
}


@router.post(
    "/{pipeline_id}/run",
    response_model=PipelineExecutionResponse,
    summary="Run Pipeline",
    openapi_extra=_RUN_BODY,
    responses=error_responses(400, 409, 413, 415, 429),
)
async def run_pipeline(
    pipeline_id: Annotated[str, Path(max_length=80)],
    request: Request,
    caller: CallerDep,
    _key: IdempotencyKeyHeader = None,
) -> Response:
    executions = caller.services.executions
    idempotency = idempotent_request(request, f"pipelines/{pipeline_id}/run")
    # Refuse an unknown or archived pipeline before reading a possibly huge body; the run
    # uses this read instead of repeating it.
    pipeline = await executions.runnable_pipeline(caller.team_id, pipeline_id)
    reader = RunFormReader(request.headers.get("content-type", ""), request.stream())
    document = await executions.receive_upload(reader.file_chunks(), caller.team_id)
    try:
        form = _validate(reader.fields)
        if reader.has_file and form.file_url:
            raise _invalid(("body", "file_url"), "Send either a file or a file_url, not both.")
        if reader.has_file:
            document = document.renamed(
                reader.filename or "document",
                reader.file_content_type or "application/octet-stream",
            )
        else:
            await executions.discard(document)
            if not form.file_url:
                raise _invalid(("body", "file"), "Send a file or a file_url.")
            document = await executions.fetch(form.file_url, caller.team_id)
    except BaseException:
        await executions.discard(document)
        raise
    options = RunOptions(
        page_range=form.page_range,
        output_format=form.output_format,
        run_evals=form.run_evals,
        skip_cache=form.skip_cache,
        webhook_url=form.webhook_url,
        webhook_events=form.webhook_events,
        version=form.version,
        traceparent=request.headers.get("traceparent"),
        idempotency=idempotency,
    )
    view = await executions.run(caller.team_id, pipeline_id, options, document, pipeline=pipeline)
    return mark_replayed(wire.execution_response(view), view)


def _validate(fields: dict[str, str]) -> RunForm:
    try:
        return RunForm.model_validate(fields)
    except ValidationError as exc:
        errors = [
            {**error, "loc": ("body", *error["loc"])}
            for error in exc.errors(include_url=False, include_context=False)
        ]
        raise RequestValidationError(errors) from exc


def _invalid(loc: tuple[str, ...], message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": loc, "msg": message, "type": "value_error"}])


@router.get(
    "/executions/{execution_id}",
    response_model=PipelineExecutionResponse,
    summary="Get Pipeline Execution",
)
async def get_execution(execution_id: ExecutionId, caller: CallerDep) -> Response:
    view = await caller.services.executions.get(caller.team_id, execution_id)
    return wire.execution_response(view)


@router.post(
    "/executions/{execution_id}/cancel",
    response_model=PipelineExecutionResponse,
    summary="Cancel Pipeline Execution (pagemill extension)",
    responses=error_responses(400),
)
async def cancel_execution(execution_id: ExecutionId, caller: CallerDep) -> Response:
    """Steps not started yet end `cancelled` at once; a running step stops at its next
    heartbeat; the execution ends `cancelled`. A finished execution is returned unchanged."""
    view = await caller.services.executions.cancel(caller.team_id, execution_id)
    return wire.execution_response(view)


class RerunBody(BaseModel):
    """A rerun: which step to start from, which steps, and the run overrides (absent: the
    parent's)."""

    from_step: int = Field(
        ge=0, le=MAX_INT, description="The first step to run; the ones before are reused"
    )
    version: int | None = Field(
        default=None, ge=0, le=MAX_INT, description="Run this version of the pipeline (0: draft)"
    )
    steps: list[PipelineStep] | None = Field(
        default=None, min_length=1, description="Replacement steps (all of them)"
    )
    page_range: StoredText | None = Field(default=None, max_length=2000)
    output_format: StoredText | None = Field(default=None, max_length=100)
    run_evals: bool | None = None
    skip_cache: bool | None = None
    webhook_url: StoredText | None = Field(default=None, max_length=4096)
    webhook_events: StoredText | None = Field(default=None, max_length=100)


@router.post(
    "/executions/{execution_id}/rerun",
    response_model=PipelineExecutionResponse,
    summary="Rerun Pipeline Execution From A Step (pagemill extension)",
    responses=error_responses(400, 409, 410, 429),
)
async def rerun_execution(
    execution_id: ExecutionId,
    body: RerunBody,
    request: Request,
    caller: CallerDep,
    _key: IdempotencyKeyHeader = None,
) -> Response:
    """A new execution of the same input that reuses the stored outputs of the steps before
    `from_step` (shown with cache status `reused`) and runs the rest; it records
    `parent_execution_id`."""
    fields = body.model_dump(mode="json", exclude_unset=True)
    rerun = RerunRequest(
        from_step=body.from_step,
        version=body.version,
        steps=[step.model_dump(exclude_unset=True) for step in body.steps] if body.steps else None,
        page_range=body.page_range,
        output_format=body.output_format,
        run_evals=body.run_evals,
        skip_cache=body.skip_cache,
        webhook_url=body.webhook_url,
        webhook_events=body.webhook_events,
        traceparent=request.headers.get("traceparent"),
        idempotency=idempotent_request(request, f"executions/{execution_id}/rerun", fields),
    )
    view = await caller.services.executions.rerun(caller.team_id, execution_id, rerun)
    return mark_replayed(wire.execution_response(view), view)


class DeletedExecution(BaseModel):
    execution_id: str
    deleted: bool
    blobs_deleted: int = Field(description="Stored inputs, results and checkpoints removed")


@router.delete(
    "/executions/{execution_id}",
    response_model=DeletedExecution,
    summary="Delete Pipeline Execution (pagemill extension)",
    responses=error_responses(400),
)
async def delete_execution(execution_id: ExecutionId, caller: CallerDep) -> Response:
    """Remove a finished execution with its uploaded input, results and checkpoints at once
    (and from the executor cache); afterwards it is a 404. 400 while it has not finished."""
    removed = await caller.services.retention.delete(caller.team_id, execution_id)
    return wire.json_response(
        {"execution_id": execution_id, "deleted": True, "blobs_deleted": removed}
    )


@router.get(
    "/executions/{execution_id}/steps/{step_index}/result",
    summary="Get Step Result",
    responses=error_responses(410),
)
async def get_step_result(
    execution_id: ExecutionId,
    step_index: Annotated[int, Path(ge=0, le=1000)],
    caller: CallerDep,
) -> Response:
    result = await caller.services.executions.step_result(caller.team_id, execution_id, step_index)
    if isinstance(result, bytes):
        return Response(result, media_type="application/json")
    return wire.json_response(result)


@router.get(
    "/{pipeline_id}/executions",
    response_model=PipelineExecutionListResponse,
    summary="List Pipeline Executions",
)
async def list_executions(
    pipeline_id: Annotated[str, Path(max_length=80)],
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> Response:
    views, total = await caller.services.executions.list_executions(
        caller.team_id, pipeline_id, limit=limit, offset=offset
    )
    return wire.json_response({"executions": [wire.execution(v) for v in views], "total": total})
