"""Execution and step statuses and the transitions the engine may make."""

from __future__ import annotations

from enum import StrEnum


class ExecutionStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    COMPLETED_WITH_ERRORS = "completed_with_errors"
    FAILED = "failed"
    CANCELLED = "cancelled"  # extension: not part of the hosted API


class StepStatus(StrEnum):
    PENDING = "pending"  # created with the execution, waiting for its upstream step
    DISPATCHED = "dispatched"  # queued for a worker (the ledger calls this "queued")
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"  # not run because an upstream step failed
    CANCELLED = "cancelled"  # extension


TERMINAL_EXECUTION = frozenset(
    {
        ExecutionStatus.COMPLETED,
        ExecutionStatus.COMPLETED_WITH_ERRORS,
        ExecutionStatus.FAILED,
        ExecutionStatus.CANCELLED,
    }
)


def wire_status(status: ExecutionStatus) -> str:
    """The execution status clients see. SDK 0.5.0 stops polling on completed,
    completed_with_errors and failed only, so a cancelled execution is shown as ``failed``
    and says it was cancelled in the extension field ``cancelled``."""
    return ExecutionStatus.FAILED.value if status is ExecutionStatus.CANCELLED else status.value


TERMINAL_STEP = frozenset(
    {StepStatus.COMPLETED, StepStatus.FAILED, StepStatus.SKIPPED, StepStatus.CANCELLED}
)

_STEP_TRANSITIONS: dict[StepStatus, frozenset[StepStatus]] = {
    StepStatus.PENDING: frozenset(
        {StepStatus.DISPATCHED, StepStatus.SKIPPED, StepStatus.CANCELLED}
    ),
    # A dispatched step is claimed, or cancelled before it starts.
    StepStatus.DISPATCHED: frozenset({StepStatus.RUNNING, StepStatus.CANCELLED}),
    # A running step completes, fails for good, goes back to the queue for another attempt
    # (retry or lost lease), or is cancelled.
    StepStatus.RUNNING: frozenset(
        {StepStatus.COMPLETED, StepStatus.FAILED, StepStatus.DISPATCHED, StepStatus.CANCELLED}
    ),
    StepStatus.COMPLETED: frozenset(),
    StepStatus.FAILED: frozenset(),
    StepStatus.SKIPPED: frozenset(),
    StepStatus.CANCELLED: frozenset(),
}

_EXECUTION_TRANSITIONS: dict[ExecutionStatus, frozenset[ExecutionStatus]] = {
    ExecutionStatus.PENDING: frozenset(
        {ExecutionStatus.RUNNING, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED}
    ),
    ExecutionStatus.RUNNING: frozenset(TERMINAL_EXECUTION),
    ExecutionStatus.COMPLETED: frozenset(),
    ExecutionStatus.COMPLETED_WITH_ERRORS: frozenset(),
    ExecutionStatus.FAILED: frozenset(),
    ExecutionStatus.CANCELLED: frozenset(),
}


def step_sources(target: StepStatus) -> frozenset[StepStatus]:
    """The statuses a step may be in for a move to ``target`` to be allowed."""
    return frozenset(s for s, targets in _STEP_TRANSITIONS.items() if target in targets)


def execution_sources(target: ExecutionStatus) -> frozenset[ExecutionStatus]:
    return frozenset(s for s, targets in _EXECUTION_TRANSITIONS.items() if target in targets)


def can_move_step(current: StepStatus, target: StepStatus) -> bool:
    return target in _STEP_TRANSITIONS[current]


def can_move_execution(current: ExecutionStatus, target: ExecutionStatus) -> bool:
    return target in _EXECUTION_TRANSITIONS[current]


def final_execution_status(step_statuses: list[StepStatus]) -> ExecutionStatus:
    """Derive an execution's terminal status from its steps' terminal statuses.

    All completed → completed; some completed and some failed → completed_with_errors;
    none completed → failed; any cancelled → cancelled.
    """
    if any(s is StepStatus.CANCELLED for s in step_statuses):
        return ExecutionStatus.CANCELLED
    completed = sum(s is StepStatus.COMPLETED for s in step_statuses)
    if completed == len(step_statuses):
        return ExecutionStatus.COMPLETED
    if completed == 0:
        return ExecutionStatus.FAILED
    return ExecutionStatus.COMPLETED_WITH_ERRORS
