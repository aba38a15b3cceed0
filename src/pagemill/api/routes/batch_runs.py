"""Batch runs (``/api/v1/eval_batch_runs``): a pipeline over every file of a collection, with
an optional eval rubric; status with progress, and one result per file.

Runs are admitted in the background (``services.batch_admitter``); the shapes follow the hosted
API's ``EvalBatchRunResponse`` and its file results, the extensions are in docs/api.md.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Response
from pydantic import BaseModel, Field

from pagemill.api import wire
from pagemill.api.deps import CallerDep
from pagemill.api.errors import error_responses
from pagemill.api.route_table import Route, build_router
from pagemill.api.schemas import MAX_INT
from pagemill.domain.batches import BatchItem, BatchRun
from pagemill.domain.ids import PUBLIC_NUMBER_MAX

PREFIX = "/api/v1/eval_batch_runs"

RunId = Annotated[int, Path(ge=1, le=PUBLIC_NUMBER_MAX, description="The batch run id")]
PublicNumber = Annotated[int, Field(ge=1, le=PUBLIC_NUMBER_MAX)]


class StartBatchRunRequest(BaseModel):
    collection_id: PublicNumber = Field(description="ID of the collection to run against")
    pipeline_id: str = Field(min_length=1, max_length=80, description="The pipeline (pl_…)")
    eval_rubric_id: PublicNumber | None = Field(
        default=None, description="Score each file's result with this rubric"
    )
    version: int | None = Field(
        default=None, ge=0, le=MAX_INT, description="Pipeline version (default: the active one)"
    )
    page_range: str | None = Field(default=None, max_length=1000)
    output_format: str | None = Field(default=None, max_length=100)
    skip_cache: bool | None = None
    run_evals: bool | None = None


class BatchRunItem(BaseModel):
    id: int
    collection_id: int
    eval_rubric_id: int | None
    pipeline_id: str
    pipeline_type: str
    pipeline_version: int
    status: str
    started_at: str | None
    completed_at: str | None
    total_files: int
    completed_files: int = Field(description="Files whose processing ended, whatever its outcome")
    succeeded_files: int
    failed_files: int
    cancelled_files: int
    running_files: int
    pending_files: int
    avg_score: float | None
    eval_applied: bool
    created: str | None


class BatchRunList(BaseModel):
    batch_runs: list[BatchRunItem]
    total: int
    limit: int
    offset: int


class FileResultItem(BaseModel):
    request_id: str | None
    lookup_key: str | None
    filename: str
    file_id: int
    position: int
    status: str
    eval_score: float | None
    eval_results: dict[str, Any] | None
    error_message: str | None
    created: str | None
    finished_at: str | None


class BatchRunResults(BaseModel):
    batch_run: BatchRunItem
    file_results: list[FileResultItem]
    total: int
    limit: int
    offset: int


def run_item(run: BatchRun, eval_applied: bool) -> dict[str, Any]:
    c = run.counts
    return {
        "id": run.run_id,
        "collection_id": run.collection_id,
        "eval_rubric_id": run.eval_rubric_id,
        "pipeline_id": run.pipeline_id,
        "pipeline_type": "pipeline",
        "pipeline_version": run.pipeline_version,
        "status": run.status.value,
        "started_at": wire.timestamp(run.started_at),
        "completed_at": wire.timestamp(run.completed_at),
        "total_files": run.total_files,
        "completed_files": c.finished,
        "succeeded_files": c.completed,
        "failed_files": c.failed,
        "cancelled_files": c.cancelled,
        "running_files": c.running,
        "pending_files": c.pending,
        "avg_score": run.avg_score,
        "eval_applied": eval_applied and run.eval_rubric_id is not None,
        "created": wire.timestamp(run.created),
    }


def file_result(item: BatchItem) -> dict[str, Any]:
    return {
        "request_id": item.execution_id,
        "lookup_key": item.execution_id,
        "filename": item.filename,
        "file_id": item.file_id,
        "position": item.position,
        "status": item.status.value,
        "eval_score": item.eval_score,
        "eval_results": item.eval_results,
        "error_message": item.error_message,
        "created": wire.timestamp(item.created),
        "finished_at": wire.timestamp(item.finished_at),
    }


def _applied(caller: CallerDep) -> bool:
    return caller.services.batches.rubrics is not None


async def start_batch_run(body: StartBatchRunRequest, caller: CallerDep) -> Response:
    run = await caller.services.batches.start(
        caller.team_id,
        body.collection_id,
        body.pipeline_id,
        version=body.version,
        eval_rubric_id=body.eval_rubric_id,
        options={
            "page_range": body.page_range,
            "output_format": body.output_format,
            "skip_cache": body.skip_cache,
            "run_evals": body.run_evals,
        },
    )
    return wire.json_response(run_item(run, _applied(caller)))


async def list_batch_runs(
    caller: CallerDep,
    collection_id: Annotated[int | None, Query(ge=1, le=PUBLIC_NUMBER_MAX)] = None,
    eval_rubric_id: Annotated[int | None, Query(ge=1, le=PUBLIC_NUMBER_MAX)] = None,
    pipeline_id: Annotated[str | None, Query(max_length=80)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> Response:
    filters = {
        "collection_id": collection_id,
        "eval_rubric_id": eval_rubric_id,
        "pipeline_id": pipeline_id,
    }
    runs, total = await caller.services.batches.list_runs(
        caller.team_id, filters, limit=limit, offset=offset
    )
    applied = _applied(caller)
    return wire.json_response(
        {
            "batch_runs": [run_item(r, applied) for r in runs],
            "total": total,
            "limit": limit,
            "offset": offset,
        }
    )


async def get_batch_run(run_id: RunId, caller: CallerDep) -> Response:
    run = await caller.services.batches.get_run(caller.team_id, run_id)
    return wire.json_response(run_item(run, _applied(caller)))


async def batch_run_results(
    run_id: RunId,
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> Response:
    run, items, total = await caller.services.batches.results(
        caller.team_id, run_id, limit=limit, offset=offset
    )
    return wire.json_response(
        {
            "batch_run": run_item(run, _applied(caller)),
            "file_results": [file_result(i) for i in items],
            "total": total,
            "limit": limit,
            "offset": offset,
        }
    )


async def cancel_batch_run(run_id: RunId, caller: CallerDep) -> Response:
    run = await caller.services.batches.cancel(caller.team_id, run_id)
    return wire.json_response(run_item(run, _applied(caller)))


ROUTES = (
    Route("POST", "", start_batch_run, "Start Batch Run", BatchRunItem, error_responses(400)),
    Route("GET", "", list_batch_runs, "List Batch Runs", BatchRunList),
    Route("GET", "/{run_id}", get_batch_run, "Get Batch Run", BatchRunItem),
    Route("GET", "/{run_id}/results", batch_run_results, "Get Batch Run Results", BatchRunResults),
    Route("POST", "/{run_id}/cancel", cancel_batch_run, "Cancel Batch Run", BatchRunItem),
)

router = build_router(PREFIX, "batch runs", ROUTES, responses=error_responses(401, 404, 503))
