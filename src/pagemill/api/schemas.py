"""Wire models of the Datalab Pipelines API (request bodies and documented responses)."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

MAX_INT = 2**31 - 1
"""The largest offset or version number the API takes: every ledger can store (and bind) it."""

MAX_JSON_DEPTH = 64
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def check_wire_json(value: Any, where: str, depth: int = 0) -> None:
    """Refuse free-form JSON (step settings, definitions) the API could not store and echo
    back exactly on every ledger: integers outside 64 bits, NaN or infinities, strings or keys
    with a NUL or a lone surrogate (``"\\ud800"``), nesting deeper than ``MAX_JSON_DEPTH``.
    Raises ``ValueError`` naming the place (a path from ``where``; ``""`` for the value
    itself), which pydantic turns into a 422.
    """
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"{where}: nested deeper than {MAX_JSON_DEPTH} levels.")
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int):
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise ValueError(f"{where}: the integer is outside the 64-bit range.")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where}: the number is not finite.")
    elif isinstance(value, str):
        _check_text(value, where)
    elif isinstance(value, dict):
        for key, item in value.items():
            inner = f"{where}.{key}" if where else str(key)
            _check_text(str(key), f"{where}.{key!r}" if where else repr(key))
            check_wire_json(item, inner, depth + 1)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check_wire_json(item, f"{where}[{index}]", depth + 1)


def _check_text(text: str, where: str) -> None:
    if "\x00" in text:
        # PostgreSQL can store no NUL in text or jsonb: refused on every ledger alike.
        raise ValueError(f"{where}: the string contains a NUL character.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{where}: the string contains a lone surrogate.") from None


def _storable_text(value: str | None) -> str | None:
    if value is not None:
        _check_text(value, "text")
    return value


StoredText = Annotated[str, AfterValidator(_storable_text)]
"""A string the API stores: no NUL character, no lone surrogate."""


def _storable_object(value: dict[str, Any]) -> dict[str, Any]:
    check_wire_json(value, "")  # pydantic's loc names the field; the message the path in it
    return value


StoredJson = Annotated[dict[str, Any], AfterValidator(_storable_object)]
"""A free-form JSON object the API stores and echoes (see ``check_wire_json``)."""


class ErrorResponse(BaseModel):
    """The body of every error but a 422 (which has FastAPI's ``HTTPValidationError`` shape)."""

    detail: str = Field(description="What went wrong, for a person to read")


class PipelineStep(BaseModel):
    """A step as clients send it; unknown keys are kept and echoed back."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="convert | segment | extract | custom | fill")
    settings: dict[str, Any] = Field(default_factory=dict)
    custom_processor_id: str | None = None
    eval_rubric_id: int | None = None
    pending_check_url: str | None = None
    pending_name: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        # Settings and unknown keys are echoed verbatim, so all of the step must be echoable.
        check_wire_json(data, "step")
        return data


_STEPS_EXAMPLES = [
    [{"type": "convert", "settings": {"output_format": "markdown"}}],
    [
        {"type": "convert", "settings": {}},
        {"type": "extract", "settings": {"page_schema": {"type": "object", "properties": {}}}},
    ],
]


class CreatePipelineRequest(BaseModel):
    steps: list[PipelineStep] = Field(
        min_length=1, description="Ordered list of pipeline steps", examples=_STEPS_EXAMPLES
    )


class UpdatePipelineRequest(BaseModel):
    steps: list[PipelineStep] = Field(min_length=1, examples=_STEPS_EXAMPLES)


class SavePipelineRequest(BaseModel):
    name: StoredText = Field(
        default="", max_length=120, description="Display name; generated if empty"
    )


class CreatePipelineVersionRequest(BaseModel):
    description: StoredText | None = Field(default=None, max_length=500)


class DiscardDraftRequest(BaseModel):
    version: int | None = Field(default=None, ge=1, le=MAX_INT)


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
    retention_seconds: int | None = Field(
        default=None, description="Extension: the pipeline's own retention; null: the team's"
    )


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
    expires_at: str | None = Field(
        default=None,
        description="Extension: when the step's result and checkpoint expire (then 410)",
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
    cancelled: bool = Field(
        default=False,
        description="pagemill extension: the execution was cancelled (its status then reads "
        "failed, which every SDK poll loop stops on)",
    )
    retention_seconds: int | None = Field(
        default=None, description="Extension: how long results are kept once it ended"
    )
    expires_at: str | None = Field(
        default=None, description="Extension: when its results expire (set when it ends)"
    )
    purged_at: str | None = Field(
        default=None, description="Extension: when the sweeper removed its stored results"
    )
    parent_execution_id: str | None = Field(
        default=None, description="Extension: a rerun's parent, whose outputs it reuses"
    )


class PipelineExecutionListResponse(BaseModel):
    executions: list[PipelineExecutionResponse]
    total: int
