"""The step runner's outcome policy, as a table: how each way a step's work can end is recorded."""

from __future__ import annotations

import asyncio

import pytest

from pagemill.domain.errors import InvalidInput, NotFound, ProcessingError
from pagemill.ports.compute import WorkerCrashed
from pagemill.services.step_outcomes import Act, Action, StopReason, step_action

CANCELLED = asyncio.CancelledError()
TIMEOUT = 60.0

TABLE: list[tuple[str, BaseException | None, StopReason | None, bool, Action]] = [
    # (case, outcome, stop reason, deadline expired, action)
    ("the work finished", None, None, False, Action(Act.COMPLETE)),
    (
        "a stop reason never overrides finished work",
        None,
        StopReason.RELEASE,
        False,
        Action(Act.COMPLETE),
    ),
    (
        "the lease went to another attempt",
        CANCELLED,
        StopReason.LEASE_LOST,
        False,
        Action(Act.DISCARD, note="lost its lease; output discarded"),
    ),
    (
        "the execution was cancelled",
        CANCELLED,
        StopReason.CANCEL,
        False,
        Action(Act.FAIL, "Cancelled."),
    ),
    ("this worker shuts down", CANCELLED, StopReason.RELEASE, False, Action(Act.RELEASE)),
    ("the runner itself is cancelled", CANCELLED, None, False, Action(Act.PROPAGATE)),
    (
        "the processor refuses the document",
        ProcessingError("Not a PDF."),
        None,
        False,
        Action(Act.FAIL, "Not a PDF."),
    ),
    (
        "the processor asks for another attempt",
        ProcessingError("Busy.", retryable=True),
        None,
        False,
        Action(Act.FAIL, "Busy.", retryable=True),
    ),
    (
        "a stop reason only explains a cancellation",
        ProcessingError("Not a PDF."),
        StopReason.RELEASE,
        False,
        Action(Act.FAIL, "Not a PDF."),
    ),
    (
        "the worker process died",
        WorkerCrashed("killed by signal 9"),
        None,
        False,
        Action(Act.FAIL, "killed by signal 9", retryable=True),
    ),
    (
        "the deadline expired",
        TimeoutError(),
        None,
        True,
        Action(Act.FAIL, "The step took longer than 60 s.", note="timed out after 60 s"),
    ),
    (
        "the processor's own timeout is an internal error",
        TimeoutError("read timed out"),
        None,
        False,
        Action(
            Act.FAIL,
            "Internal error: TimeoutError: read timed out",
            retryable=True,
            note="failed unexpectedly",
            trace=True,
        ),
    ),
    (
        "a domain error says what is wrong",
        InvalidInput("page_range is out of bounds."),
        None,
        False,
        Action(Act.FAIL, "page_range is out of bounds."),
    ),
    (
        "a missing blob is a domain error too",
        NotFound("Blob inputs/x not found"),
        None,
        False,
        Action(Act.FAIL, "Blob inputs/x not found"),
    ),
    (
        "a bug is retried and logged with its traceback",
        KeyError("boom"),
        None,
        False,
        Action(
            Act.FAIL,
            "Internal error: KeyError: 'boom'",
            retryable=True,
            note="failed unexpectedly",
            trace=True,
        ),
    ),
    (
        "an interpreter exit is not the step's",
        KeyboardInterrupt(),
        None,
        False,
        Action(Act.PROPAGATE),
    ),
]


@pytest.mark.parametrize(
    ("outcome", "stop", "timed_out", "expected"),
    [row[1:] for row in TABLE],
    ids=[row[0] for row in TABLE],
)
def test_each_outcome_maps_to_one_action(
    outcome: BaseException | None, stop: StopReason | None, timed_out: bool, expected: Action
) -> None:
    assert step_action(outcome, stop=stop, timed_out=timed_out, timeout=TIMEOUT) == expected
