"""Wire models of the Datalab Pipelines API (request bodies and documented responses)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class PipelineStep(BaseModel):
    """A step as clients send it; unknown keys are kept and echoed back."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="convert | segment | extract | custom | fill")
    settings: dict[str, Any] = Field(default_factory=dict)
    custom_processor_id: str | None = None
    eval_rubric_id: int | None = None
    pending_check_url: str | None = None
    pending_name: str | None = None


class CreatePipelineRequest(BaseModel):
    steps: list[PipelineStep] = Field(min_length=1, description="Ordered list of pipeline steps")


class UpdatePipelineRequest(BaseModel):
    steps: list[PipelineStep] = Field(min_length=1)


class SavePipelineRequest(BaseModel):
    name: str = Field(default="", max_length=120, description="Display name; generated if empty")


class CreatePipelineVersionRequest(BaseModel):
    description: str | None = Field(default=None, max_length=500)


class DiscardDraftRequest(BaseModel):
    version: int | None = Field(default=None, ge=1)


class PipelineResponse(BaseModel):
    id: int
    pipeline_id: str
    name: str | None
    steps: list[Any]
    is_saved: bool
    archived: bool
    active_version: int
    created: str | None
    updated: str | None


class PipelineListResponse(BaseModel):
    pipelines: list[PipelineResponse]
    total: int


class PipelineVersionResponse(BaseModel):
    id: int
    version: int
    steps: list[Any]
    description: str | None
    created: str | None


class PipelineVersionListResponse(BaseModel):
    versions: list[PipelineVersionResponse]
    total: int


class PipelineExecutionStepResponse(BaseModel):
    step_index: int
    step_type: str
    status: str
    lookup_key: str | None = None
    result_url: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    error_message: str | None = None
    checkpoint_id: str | None = None
    source_step_type: str | None = None
    attempt: int | None = Field(default=None, description="Extension: the current attempt")
    worker: str | None = Field(
        default=None, description="Extension: the worker holding the lease (host:pid:boot/slot)"
    )
    heartbeat_at: str | None = Field(default=None, description="Extension: the last heartbeat")
    progress: dict[str, Any] | None = Field(default=None, description="Extension: live progress")
    cache: dict[str, Any] | None = Field(
        default=None,
        description="Extension: executor cache outcome (hit, miss or bypass; source of a hit)",
    )


class PipelineExecutionResponse(BaseModel):
    execution_id: str
    pipeline_id: str
    pipeline_version: int
    status: str
    steps: list[PipelineExecutionStepResponse]
    started_at: str | None = None
    completed_at: str | None = None
    created: str | None = None
    config_snapshot: dict[str, Any] | None = None
    input_config: dict[str, Any] | None = None
    rate_breakdown: dict[str, Any] | None = None


class PipelineExecutionListResponse(BaseModel):
    executions: list[PipelineExecutionResponse]
    total: int
