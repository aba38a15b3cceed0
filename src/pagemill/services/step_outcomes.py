"""What the step runner does when a step's work ends: one pure decision per outcome.

The work of an attempt ends with its output, or with an exception: it was stopped (its lease
was lost, its execution cancelled, this worker is shutting down), it ran out of time, the
processor refused the document, the process running it died, or a bug surfaced. ``step_action``
maps each to what the runner records in the ledger; ``tests/unit/test_step_outcomes.py`` is
its table.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from pagemill.domain.errors import PagemillError, ProcessingError
from pagemill.ports.compute import WorkerCrashed


class StopReason(StrEnum):
    """Why a step's work was stopped before it finished."""

    LEASE_LOST = "lease-lost"  # the ledger gave the step to another attempt
    CANCEL = "cancel"  # its execution was cancelled
    RELEASE = "release"  # this worker is shutting down


class Act(StrEnum):
    COMPLETE = "complete"  # record the output: the step is done
    FAIL = "fail"  # end the attempt: retried when ``retryable`` and attempts remain
    RELEASE = "release"  # hand the step back to the queue, uncharged
    DISCARD = "discard"  # record nothing: another attempt owns the step now
    PROPAGATE = "propagate"  # not the step's outcome: the runner itself is being cancelled


@dataclass(frozen=True, slots=True)
class Action:
    act: Act
    error: str = ""  # the step's error message (``FAIL``)
    retryable: bool = False
    note: str = ""  # logged as "step <ref> <note>" when set
    trace: bool = False  # log the note as an error with the exception's traceback


COMPLETE = Action(Act.COMPLETE)
CANCELLED = "Cancelled."


def step_action(
    outcome: BaseException | None, *, stop: StopReason | None, timed_out: bool, timeout: float
) -> Action:
    """What to record for an attempt whose work ended with ``outcome`` (None: it finished).

    ``stop`` is the reason the runner stopped the work, if it did; it explains a cancellation
    only. ``timed_out``: the runner's deadline of ``timeout`` seconds expired.
    """
    if outcome is None:
        return COMPLETE
    if isinstance(outcome, asyncio.CancelledError):
        if stop is StopReason.LEASE_LOST:
            return Action(Act.DISCARD, note="lost its lease; output discarded")
        if stop is StopReason.CANCEL:
            return Action(Act.FAIL, CANCELLED)
        if stop is StopReason.RELEASE:
            return Action(Act.RELEASE)
        return Action(Act.PROPAGATE)
    if isinstance(outcome, ProcessingError):
        return Action(Act.FAIL, outcome.message, outcome.retryable)
    if isinstance(outcome, WorkerCrashed):
        return Action(Act.FAIL, str(outcome), retryable=True)
    if isinstance(outcome, TimeoutError) and timed_out:
        return Action(
            Act.FAIL,
            f"The step took longer than {timeout:g} s.",
            note=f"timed out after {timeout:g} s",
        )
    if isinstance(outcome, PagemillError):
        return Action(Act.FAIL, outcome.detail)
    if isinstance(outcome, Exception):
        # A TimeoutError the processor raised itself lands here too: an internal error.
        return Action(
            Act.FAIL,
            f"Internal error: {type(outcome).__name__}: {outcome}",
            retryable=True,
            note="failed unexpectedly",
            trace=True,
        )
    return Action(Act.PROPAGATE)  # KeyboardInterrupt, SystemExit: not ours to record


def retry_delay(attempt: int, base_seconds: float, max_seconds: float) -> timedelta:
    """How long a failed attempt waits before the next: exponential, with full jitter, which
    spreads the retries of documents that failed together."""
    ceiling = min(max_seconds, base_seconds * 2 ** (attempt - 1))
    return timedelta(seconds=random.uniform(0, ceiling))
