"""An execution's events in the event stream's format (``step.started``, ``step.progress``,
``execution.completed``, …) and the execution's state they lead to.

A server with the event stream sends them; without it (or when the stream breaks for good),
and for runs in this process, they are derived from successive states of the execution: the
same names and data fields, without ids.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pagemill.library import RunProgress, StepProgress

TERMINAL_EVENTS = {
    "completed": "execution.completed",
    "completed_with_errors": "execution.completed",
    "failed": "execution.failed",
    "cancelled": "execution.cancelled",
}


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    data: dict[str, Any] = field(default_factory=dict)
    id: str | None = None

    @property
    def terminal(self) -> bool:
        return self.type.startswith("execution.")

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "event": self.type, "data": self.data}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def progress_from_wire(body: Mapping[str, Any]) -> RunProgress:
    """``GET …/executions/{id}`` → the execution's state."""
    steps = []
    for step in body.get("steps") or []:
        live = step.get("progress") or {}
        running = step.get("status") == "running"
        steps.append(
            StepProgress(
                index=int(step["step_index"]),
                step_type=str(step["step_type"]),
                status=str(step["status"]),
                attempt=_int(step.get("attempt")) or 0,
                pages_done=_int(live.get("pages_done")) if running else None,
                pages_total=_int(live.get("pages_total")) if running else None,
                error=step.get("error_message"),
                cache=(step.get("cache") or {}).get("status"),
            )
        )
    # A cancelled execution shows as failed (what SDK poll loops stop on), flagged cancelled.
    status = "cancelled" if body.get("cancelled") is True else str(body["status"])
    return RunProgress(str(body["execution_id"]), status, tuple(steps))


def _base(execution_id: str, step: StepProgress) -> dict[str, Any]:
    return {
        "execution_id": execution_id,
        "step_index": step.index,
        "step_type": step.step_type,
        "attempt": step.attempt,
    }


def _step_events(execution_id: str, old: StepProgress | None, new: StepProgress) -> Iterator[Event]:
    """What happened to a step between two looks at it, as events in their order."""
    base = _base(execution_id, new)
    before_status = old.status if old is not None else "pending"
    before_attempt = old.attempt if old is not None else 0
    if new.attempt > before_attempt and new.attempt > 0:
        if new.attempt > 1:
            yield Event("step.retrying", {**base, "error": new.error})
        yield Event("step.dispatched", base)
        before_status = "dispatched"
    ran = new.status in ("running", "completed", "failed")
    if ran and before_status in ("pending", "dispatched"):
        yield Event("step.started", base)
    if new.status == "running" and new.pages_total is not None:
        seen = (old.pages_done, old.pages_total) if old is not None else (None, None)
        if (new.pages_done, new.pages_total) != seen:
            yield Event(
                "step.progress",
                {**base, "pages_done": new.pages_done, "pages_total": new.pages_total},
            )
    if new.status != before_status or (old is not None and new.attempt != old.attempt):
        if new.status == "completed":
            yield Event("step.completed", {**base, "cache": {"status": new.cache}})
        elif new.status == "failed":
            yield Event("step.failed", {**base, "error": new.error})


def changes(old: RunProgress | None, new: RunProgress) -> list[Event]:
    """The events between two states of an execution (``old`` None: since it began)."""
    events: list[Event] = []
    for step in new.steps:
        before = old.steps[step.index] if old is not None and step.index < len(old.steps) else None
        events += _step_events(new.execution_id, before, step)
    if new.finished and (old is None or not old.finished):
        events.append(terminal_event(new))
    return events


def terminal_event(state: RunProgress) -> Event:
    return Event(
        TERMINAL_EVENTS.get(state.status, "execution.failed"),
        {
            "execution_id": state.execution_id,
            "status": state.status,
            "steps": [
                {
                    "step_index": s.index,
                    "step_type": s.step_type,
                    "status": s.status,
                    "attempt": s.attempt,
                }
                for s in state.steps
            ],
        },
    )


_STEP_STATUS = {
    "step.dispatched": "dispatched",
    "step.retrying": "dispatched",
    "step.started": "running",
    "step.completed": "completed",
    "step.failed": "failed",
}


def apply(state: RunProgress, event: Event) -> RunProgress:
    """The state after ``event`` (an event of the stream)."""
    data = event.data
    if event.terminal:
        ended = {s.get("step_index"): s for s in data.get("steps") or [] if isinstance(s, dict)}
        steps = tuple(
            dataclasses.replace(
                step,
                status=str(ended[step.index].get("status", step.status)),
                pages_done=None,
                pages_total=None,
            )
            if step.index in ended
            else step
            for step in state.steps
        )
        return RunProgress(state.execution_id, str(data.get("status", state.status)), steps)
    index = data.get("step_index")
    if not isinstance(index, int) or not 0 <= index < len(state.steps):
        return state
    step = state.steps[index]
    attempt = _int(data.get("attempt")) or step.attempt
    if event.type == "step.progress":
        step = dataclasses.replace(
            step,
            status="running",
            attempt=attempt,
            pages_done=_int(data.get("pages_done")),
            pages_total=_int(data.get("pages_total")),
        )
    elif event.type in _STEP_STATUS:
        cache = data.get("cache")
        step = dataclasses.replace(
            step,
            status=_STEP_STATUS[event.type],
            attempt=attempt,
            pages_done=None,
            pages_total=None,
            error=data.get("error", step.error),
            cache=cache.get("status") if isinstance(cache, dict) else step.cache,
        )
    else:
        return state
    steps = (*state.steps[:index], step, *state.steps[index + 1 :])
    status = "running" if state.status == "pending" and step.status == "running" else state.status
    return RunProgress(state.execution_id, status, steps)
