"""Records that cross the port boundary: what the ledger stores and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pagemill.domain.idempotency import IdempotencyClaim
from pagemill.domain.statuses import ExecutionStatus, StepStatus


@dataclass(frozen=True, slots=True)
class Team:
    id: str
    name: str
    created: datetime
    retention_seconds: int | None = None  # extension: None: the server's setting


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    team_id: str
    name: str
    key_hash: str
    created: datetime
    last_used_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    prefix: str = ""  # the first characters of the key (``pm_`` + its id part): safe to show
    created_by: str | None = None  # the user who created it; None: the operator (CLI)


@dataclass(frozen=True, slots=True)
class Pipeline:
    pk: int
    pipeline_id: str
    team_id: str
    name: str | None
    steps: list[dict[str, Any]]
    is_saved: bool
    archived: bool
    active_version: int
    created: datetime
    updated: datetime
    retention_seconds: int | None = None  # extension: None: the team's, else the server's


@dataclass(frozen=True, slots=True)
class PipelineVersion:
    pk: int
    pipeline_pk: int
    version: int
    steps: list[dict[str, Any]]
    description: str | None
    created: datetime


@dataclass(frozen=True, slots=True)
class StepRef:
    """One delivery: run step ``step_index`` of ``execution_id`` as attempt ``attempt``."""

    execution_id: str
    step_index: int
    attempt: int


@dataclass(frozen=True, slots=True)
class StepRun:
    execution_id: str
    step_index: int
    step_type: str
    status: StepStatus
    attempt: int
    max_attempts: int
    settings: dict[str, Any]
    lookup_key: str
    available_at: datetime | None = None
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    heartbeat_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    result_key: str | None = None
    checkpoint_id: str | None = None
    error_message: str | None = None
    cache: dict[str, Any] | None = None  # executor cache outcome: {"status": "hit"|"miss"|…}

    @property
    def ref(self) -> StepRef:
        return StepRef(self.execution_id, self.step_index, self.attempt)


@dataclass(frozen=True, slots=True)
class Execution:
    pk: int
    execution_id: str
    team_id: str
    pipeline_id: str
    pipeline_version: int
    status: ExecutionStatus
    seq: int
    created: datetime
    input_key: str
    config_snapshot: dict[str, Any]
    input_config: dict[str, Any]
    started_at: datetime | None = None
    completed_at: datetime | None = None
    rate_breakdown: dict[str, Any] | None = None
    error_message: str | None = None
    page_count: int | None = None
    traceparent: str | None = None  # W3C trace context of the run request, when traced
    # Retention: how long results and checkpoints are kept once it ended (None: until
    # deleted); ``expires_at`` is set when it ends, ``purged_at`` once they were removed.
    retention_seconds: int | None = None
    expires_at: datetime | None = None
    purged_at: datetime | None = None
    parent_execution_id: str | None = None  # a rerun: the execution whose outputs it reuses


@dataclass(frozen=True, slots=True)
class ExecutionHead:
    """The two fields that date an execution in the ledger."""

    status: ExecutionStatus
    seq: int


@dataclass(frozen=True, slots=True)
class ReusedStep:
    """A step of a rerun that is not run again: where its parent's outputs are."""

    result_key: str
    checkpoint_id: str | None
    page_count: int
    source_execution_id: str
    source_step_index: int

    @property
    def outcome(self) -> dict[str, Any]:
        """What the step shows as its cache outcome."""
        return {
            "status": "reused",
            "source_execution_id": self.source_execution_id,
            "source_step_index": self.source_step_index,
        }


@dataclass(frozen=True, slots=True)
class NewExecution:
    execution_id: str
    team_id: str
    pipeline_id: str
    pipeline_version: int
    input_key: str
    config_snapshot: dict[str, Any]
    input_config: dict[str, Any]
    step_types: list[str]
    step_settings: list[dict[str, Any]]
    max_attempts: int
    traceparent: str | None = None
    retention_seconds: int | None = None  # None: kept until deleted
    # A rerun: its first ``len(reused)`` steps are the parent's stored outputs, recorded as
    # completed (``cache`` status ``reused``); the next step is the one dispatched.
    reused: tuple[ReusedStep, ...] = ()
    parent_execution_id: str | None = None
    page_count: int | None = None  # the billed page count, when known already (a rerun)
    # Recorded with the execution, in its transaction: a live key of the team held by another
    # request makes ``create`` answer that request's execution instead (see the port).
    idempotency: IdempotencyClaim | None = None


@dataclass(frozen=True, slots=True)
class ExecutionSnapshot:
    """An execution and all its steps as one transaction left them (``execution.seq`` dates it)."""

    execution: Execution
    steps: list[StepRun]
    # Live-only progress per step index (pages done/total…); never stored in the ledger.
    progress: dict[int, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Claim:
    """A step a worker now holds a lease on, with what it needs to run it."""

    step: StepRun
    execution: Execution
    upstream: StepRun | None  # the previous step (its checkpoint feeds this one)
    snapshot: ExecutionSnapshot


@dataclass(frozen=True, slots=True)
class StepOutput:
    result_key: str
    checkpoint_id: str | None
    page_count: int
    cache: dict[str, Any] | None = None  # the outcome shown on the step
    cache_key: str | None = None  # when set and not a hit, the result is remembered under it


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """Work done before: where its result and checkpoint are, and where it came from."""

    result_key: str
    checkpoint_id: str | None
    page_count: int
    source_execution_id: str
    source_step_index: int


@dataclass(frozen=True, slots=True)
class Heartbeat:
    held: bool  # False: the lease was lost (reaped, cancelled, or taken by a later attempt)
    cancel_requested: bool = False


@dataclass(frozen=True, slots=True)
class StuckSteps:
    """Steps an operator should look at."""

    expired_leases: list[StepRun]  # running, lease long expired: the reaper is not keeping up
    queued_too_long: list[StepRun]  # dispatched long ago: no worker serves that step type
    retried: list[StepRun]  # unfinished steps past their first attempt: flapping
