"""The hosted API's ``PipelineExecutionResponse`` schema (the SDK's model of it), to validate
responses against."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr

# A cancelled execution is shown as failed (with ``cancelled: true``): never "cancelled".
EXECUTION_STATUSES = {
    "pending",
    "running",
    "completed",
    "completed_with_errors",
    "failed",
}
STEP_STATUSES = {"pending", "dispatched", "running", "completed", "failed", "skipped", "cancelled"}


class _Step(BaseModel):
    model_config = ConfigDict(extra="allow")

    step_index: StrictInt
    step_type: StrictStr
    status: StrictStr
    lookup_key: StrictStr | None = None
    result_url: StrictStr | None = None
    started_at: StrictStr | None = None
    finished_at: StrictStr | None = None
    error_message: StrictStr | None = None
    checkpoint_id: StrictStr | None = None


class PipelineExecutionResponse(BaseModel):
    model_config = ConfigDict(extra="allow")

    execution_id: StrictStr
    pipeline_id: StrictStr
    pipeline_version: StrictInt
    status: StrictStr
    steps: list[_Step]
    started_at: StrictStr | None = None
    completed_at: StrictStr | None = None
    created: StrictStr | None = None
    config_snapshot: dict[str, Any] | None = None
    input_config: dict[str, Any] | None = None
    rate_breakdown: dict[str, Any] | None = None


def assert_execution_shape(body: dict[str, Any]) -> None:
    """Validate against the schema, with the statuses the hosted API documents."""
    for key in ("execution_id", "pipeline_id", "pipeline_version", "status", "steps"):
        assert key in body, f"required field {key} missing"
    parsed = PipelineExecutionResponse.model_validate(body)
    assert parsed.status in EXECUTION_STATUSES, parsed.status
    assert [s.step_index for s in parsed.steps] == list(range(len(parsed.steps)))
    for step in parsed.steps:
        assert step.status in STEP_STATUSES, step.status
