"""An execution's events (``step.started``, ``step.completed``, ``execution.failed``, …) derived
from successive states of its steps.

The live store logs each committed snapshot with the step states it replaced; the events of a
log entry are the differences between the two, so every reader (on any API replica) derives
the same events in the same order from the same entry. The ledger's final state, diffed against
"nothing happened yet", gives the coarser history of an execution whose log has expired.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from pagemill.domain.clock import utc
from pagemill.domain.models import StepRun
from pagemill.domain.statuses import TERMINAL_EXECUTION, ExecutionStatus, StepStatus

TERMINAL_EVENT = {
    ExecutionStatus.COMPLETED: "execution.completed",
    ExecutionStatus.COMPLETED_WITH_ERRORS: "execution.completed",
    ExecutionStatus.FAILED: "execution.failed",
    ExecutionStatus.CANCELLED: "execution.cancelled",
}
STEP_EVENTS = (
    "step.dispatched",
    "step.started",
    "step.progress",
    "step.completed",
    "step.failed",
    "step.retrying",
)


class StepState(NamedTuple):
    """What the event stream tells of one step: a small part of its ``StepRun``. (A tuple: one
    is made per step of every snapshot the live store keeps, so it must be cheap.)"""

    step_type: str
    status: StepStatus
    attempt: int
    lookup_key: str | None = None
    checkpoint_id: str | None = None
    cache: dict[str, Any] | None = None
    error: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    worker: str | None = None  # who holds the lease while it runs

    def to_json(self) -> dict[str, Any]:
        return {
            "t": self.step_type,
            "s": self.status.value,
            "a": self.attempt,
            "k": self.lookup_key,
            "c": self.checkpoint_id,
            "h": self.cache,
            "e": self.error,
            "b": iso(self.started_at),
            "f": iso(self.finished_at),
            "w": self.worker,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StepState:
        cache = data.get("h")
        return cls(
            step_type=str(data["t"]),
            status=StepStatus(data["s"]),
            attempt=int(data["a"]),
            lookup_key=data.get("k"),
            checkpoint_id=data.get("c"),
            cache=dict(cache) if isinstance(cache, dict) else None,
            error=data.get("e"),
            started_at=_parse(data.get("b")),
            finished_at=_parse(data.get("f")),
            worker=data.get("w"),
        )


NOT_STARTED = StepStatus.PENDING


@dataclass(frozen=True, slots=True)
class ExecutionEvent:
    type: str
    data: dict[str, Any]

    @property
    def terminal(self) -> bool:
        return self.type.startswith("execution.")


def step_states(steps: Sequence[StepRun]) -> tuple[StepState, ...]:
    # Positional: this runs for every snapshot the live store keeps.
    return tuple(
        StepState(
            s.step_type,
            s.status,
            s.attempt,
            s.lookup_key,
            s.checkpoint_id,
            s.cache,
            s.error_message,
            s.started_at,
            s.finished_at,
            s.lease_owner,
        )
        for s in steps
    )


def transition_events(
    execution_id: str,
    previous: Sequence[StepState] | None,
    current: Sequence[StepState],
    status: ExecutionStatus,
) -> list[ExecutionEvent]:
    """The events between two states of an execution's steps (``previous`` None: nothing had
    happened yet), in step order; the terminal event last when ``status`` is terminal."""
    events: list[ExecutionEvent] = []
    for index, new in enumerate(current):
        old = previous[index] if previous is not None and index < len(previous) else None
        events += _step_events(execution_id, index, old, new)
    if status in TERMINAL_EXECUTION:
        events.append(terminal_event(execution_id, current, status))
    return events


def terminal_event(
    execution_id: str, steps: Sequence[StepState], status: ExecutionStatus
) -> ExecutionEvent:
    """``execution.completed|failed|cancelled`` with every step's final status."""
    return ExecutionEvent(
        TERMINAL_EVENT.get(status, "execution.failed"),
        {
            "execution_id": execution_id,
            "step_index": None,
            "step_type": None,
            "status": status.value,
            "steps": [
                {
                    "step_index": i,
                    "step_type": s.step_type,
                    "status": s.status.value,
                    "attempt": s.attempt,
                    "cache": s.cache,
                }
                for i, s in enumerate(steps)
            ],
        },
    )


def progress_event(
    execution_id: str, index: int, step: StepState | None, progress: Mapping[str, Any]
) -> ExecutionEvent | None:
    """``step.progress`` for a progress update with pages (a bare heartbeat has none)."""
    done, total = progress.get("pages_done"), progress.get("pages_total")
    if not isinstance(done, int) and not isinstance(total, int):
        return None
    data = {
        "execution_id": execution_id,
        "step_index": index,
        "step_type": step.step_type if step is not None else None,
        "status": StepStatus.RUNNING.value,
        "attempt": step.attempt if step is not None else None,
        "pages_done": done if isinstance(done, int) else None,
        "pages_total": total if isinstance(total, int) else None,
    }
    stage = progress.get("stage")
    if isinstance(stage, str):
        data["stage"] = stage
    return ExecutionEvent("step.progress", data)


def _step_events(
    execution_id: str, index: int, old: StepState | None, new: StepState
) -> Iterator[ExecutionEvent]:
    def event(kind: str, status: StepStatus, **extra: Any) -> ExecutionEvent:
        return ExecutionEvent(
            kind,
            {
                "execution_id": execution_id,
                "step_index": index,
                "step_type": new.step_type,
                "status": status.value,
                "attempt": new.attempt,
                **extra,
            },
        )

    before = old.status if old is not None else NOT_STARTED
    before_attempt = old.attempt if old is not None else 0
    if new.attempt > before_attempt and new.status is not StepStatus.CANCELLED:
        # A new attempt was handed to the queue. After an earlier one (a failure, a lost
        # worker, a shutdown's hand-back) that is a retry.
        if new.attempt > 1:
            yield event("step.retrying", StepStatus.DISPATCHED, error=new.error)
        yield event("step.dispatched", StepStatus.DISPATCHED)
        before = StepStatus.DISPATCHED
    ran = new.status in (StepStatus.RUNNING, StepStatus.COMPLETED, StepStatus.FAILED)
    if ran and before in (StepStatus.PENDING, StepStatus.DISPATCHED):
        yield event(
            "step.started", StepStatus.RUNNING, started_at=iso(new.started_at), worker=new.worker
        )
    if new.status is before:
        return
    if new.status is StepStatus.COMPLETED:
        yield event(
            "step.completed",
            StepStatus.COMPLETED,
            lookup_key=new.lookup_key,
            checkpoint_id=new.checkpoint_id,
            cache=new.cache,
            started_at=iso(new.started_at),
            finished_at=iso(new.finished_at),
        )
    elif new.status is StepStatus.FAILED:
        yield event(
            "step.failed",
            StepStatus.FAILED,
            error=new.error,
            started_at=iso(new.started_at),
            finished_at=iso(new.finished_at),
        )


def iso(value: datetime | None) -> str | None:
    """A timestamp as the wire shows it (UTC, ``Z``)."""
    return utc(value).isoformat().replace("+00:00", "Z") if value is not None else None


def _parse(value: Any) -> datetime | None:
    return utc(datetime.fromisoformat(value.replace("Z", "+00:00"))) if value else None
