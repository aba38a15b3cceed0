"""Domain records → wire dictionaries (plain dicts: the poll path must stay cheap)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from fastapi import Response

from pagemill.domain.models import Pipeline, PipelineVersion, StepRun
from pagemill.domain.statuses import ExecutionStatus, StepStatus, wire_status
from pagemill.services.executions import ExecutionView


def timestamp(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def json_response(
    body: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


def pipeline(p: Pipeline) -> dict[str, Any]:
    return {
        "id": p.pk,
        "pipeline_id": p.pipeline_id,
        "name": p.name,
        "steps": p.steps,
        "is_saved": p.is_saved,
        "archived": p.archived,
        "active_version": p.active_version,
        "created": timestamp(p.created),
        "updated": timestamp(p.updated),
        "retention_seconds": p.retention_seconds,
    }


def version(v: PipelineVersion) -> dict[str, Any]:
    return {
        "id": v.pk,
        "version": v.version,
        "steps": v.steps,
        "description": v.description,
        "created": timestamp(v.created),
    }


def result_url(execution_id: str, step_index: int) -> str:
    return f"/api/v1/pipelines/executions/{execution_id}/steps/{step_index}/result"


def _step(step: StepRun, progress: dict[str, Any] | None, expires_at: str | None) -> dict[str, Any]:
    dispatched = step.status not in (StepStatus.PENDING, StepStatus.SKIPPED)
    stored = step.result_key is not None or step.checkpoint_id is not None
    return {
        "step_index": step.step_index,
        "step_type": step.step_type,
        "status": step.status.value,
        "lookup_key": step.lookup_key if dispatched else None,
        "result_url": result_url(step.execution_id, step.step_index),
        "started_at": timestamp(step.started_at),
        "finished_at": timestamp(step.finished_at),
        "error_message": step.error_message,
        "checkpoint_id": step.checkpoint_id,
        "source_step_type": None,
        "attempt": step.attempt,
        "worker": step.lease_owner,
        "heartbeat_at": timestamp(step.heartbeat_at),
        "progress": progress,
        "cache": step.cache,
        # When its result and checkpoint stop being served (the execution's retention).
        "expires_at": expires_at if stored else None,
    }


def execution(view: ExecutionView) -> dict[str, Any]:
    e = view.execution
    input_config = dict(e.input_config)
    input_config["page_count"] = e.page_count
    expires_at = timestamp(e.expires_at)
    return {
        "execution_id": e.execution_id,
        "pipeline_id": e.pipeline_id,
        "pipeline_version": e.pipeline_version,
        "status": wire_status(e.status),
        # Extension: the exact end of a cancelled execution, which ``status`` shows as failed.
        "cancelled": e.status is ExecutionStatus.CANCELLED,
        "steps": [_step(s, view.progress.get(s.step_index), expires_at) for s in view.steps],
        "started_at": timestamp(e.started_at),
        "completed_at": timestamp(e.completed_at),
        "created": timestamp(e.created),
        "config_snapshot": e.config_snapshot,
        "input_config": input_config,
        "rate_breakdown": e.rate_breakdown,
        "retention_seconds": e.retention_seconds,
        "expires_at": expires_at,
        "purged_at": timestamp(e.purged_at),
        "parent_execution_id": e.parent_execution_id,
    }


def execution_response(view: ExecutionView, status_code: int = 200) -> Response:
    # Which store answered, for operators and for tests of the decision rule.
    return json_response(execution(view), status_code, headers={"X-Pagemill-Source": view.source})
