"""Events derived from two states of an execution's steps."""

from __future__ import annotations

from pagemill.domain.events import StepState, progress_event, transition_events
from pagemill.domain.statuses import ExecutionStatus, StepStatus

D, R, C, F, P, S, X = (
    StepStatus.DISPATCHED,
    StepStatus.RUNNING,
    StepStatus.COMPLETED,
    StepStatus.FAILED,
    StepStatus.PENDING,
    StepStatus.SKIPPED,
    StepStatus.CANCELLED,
)


def state(status: StepStatus, attempt: int = 1, **fields: object) -> StepState:
    return StepState("convert", status, attempt, **fields)  # type: ignore[arg-type]


def kinds(
    previous: list[StepState] | None,
    current: list[StepState],
    status: ExecutionStatus = ExecutionStatus.RUNNING,
) -> list[tuple[str, int | None]]:
    return [
        (e.type, e.data["step_index"])
        for e in transition_events("pex_1", previous, current, status)
    ]


def test_each_transition_of_a_step_is_one_event_in_its_order() -> None:
    assert kinds(None, [state(D), state(P, 0)]) == [("step.dispatched", 0)]
    assert kinds([state(D), state(P, 0)], [state(R), state(P, 0)]) == [("step.started", 0)]
    assert kinds([state(R), state(P, 0)], [state(C), state(D)]) == [
        ("step.completed", 0),
        ("step.dispatched", 1),
    ]


def test_transitions_missed_in_between_are_all_told() -> None:
    assert kinds(None, [state(C), state(C)], ExecutionStatus.COMPLETED) == [
        ("step.dispatched", 0),
        ("step.started", 0),
        ("step.completed", 0),
        ("step.dispatched", 1),
        ("step.started", 1),
        ("step.completed", 1),
        ("execution.completed", None),
    ]


def test_a_retry_tells_the_error_and_the_new_attempt() -> None:
    events = transition_events(
        "pex_1", [state(R)], [state(D, 2, error="boom")], ExecutionStatus.RUNNING
    )
    assert [(e.type, e.data["attempt"], e.data.get("error")) for e in events] == [
        ("step.retrying", 2, "boom"),
        ("step.dispatched", 2, None),
    ]


def test_a_failure_skips_the_rest_and_fails_the_execution() -> None:
    events = transition_events(
        "pex_1",
        [state(R), state(P, 0)],
        [state(F, error="bad"), state(S, 0)],
        ExecutionStatus.FAILED,
    )
    assert [e.type for e in events] == ["step.failed", "execution.failed"]
    assert events[0].data["error"] == "bad"
    assert [s["status"] for s in events[-1].data["steps"]] == ["failed", "skipped"]


def test_a_cancellation_ends_with_execution_cancelled_only() -> None:
    assert kinds([state(R), state(P, 0)], [state(X), state(X, 0)], ExecutionStatus.CANCELLED) == [
        ("execution.cancelled", None)
    ]


def test_progress_needs_pages_and_says_which_attempt() -> None:
    assert progress_event("pex_1", 0, state(R, 2), {"heartbeat_at": "now"}) is None
    event = progress_event("pex_1", 0, state(R, 2), {"pages_done": 3, "pages_total": 9})
    assert event is not None
    assert (event.type, event.data["pages_done"], event.data["attempt"]) == ("step.progress", 3, 2)
