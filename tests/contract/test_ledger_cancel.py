"""Cancellation and release in the ledger contract (SQLite and PostgreSQL)."""

from __future__ import annotations

from pagemill.adapters.sql import SqlLedger
from pagemill.domain.statuses import ExecutionStatus, StepStatus
from tests.contract.ledger_kit import LEASE, T0, at, claimed, new_execution, output, team

RATES = {"convert": 400, "segment": 200}


async def test_cancel_before_anything_runs_ends_the_execution(ledger: SqlLedger) -> None:
    team_id = await team(ledger)
    created = await ledger.executions.create(new_execution(team_id, ["convert", "segment"]), T0)
    execution_id = created.execution.execution_id
    assert await ledger.executions.cancel(execution_id, "someone_else", at(1), RATES) is None
    snapshot = await ledger.executions.cancel(execution_id, team_id, at(1), RATES)
    assert snapshot is not None
    assert snapshot.execution.status is ExecutionStatus.CANCELLED
    assert [s.status for s in snapshot.steps] == [StepStatus.CANCELLED] * 2
    assert snapshot.execution.seq > created.execution.seq
    assert await ledger.steps.claim_next("w1", at(2), LEASE, None) is None  # nothing to deliver


async def test_a_running_step_learns_of_the_cancel_at_its_heartbeat(ledger: SqlLedger) -> None:
    team_id = await team(ledger)
    await ledger.executions.create(new_execution(team_id, ["convert", "segment"]), T0)
    claim = await claimed(ledger, "w1", at(1))
    ref = claim.step.ref
    assert (await ledger.steps.heartbeat(ref, "w1", at(2), LEASE)).cancel_requested is False
    snapshot = await ledger.executions.cancel(ref.execution_id, team_id, at(3), RATES)
    assert snapshot is not None
    assert snapshot.execution.status is ExecutionStatus.RUNNING  # its step is still running
    assert snapshot.steps[1].status is StepStatus.CANCELLED
    beat = await ledger.steps.heartbeat(ref, "w1", at(4), LEASE)
    assert beat.held and beat.cancel_requested
    # The worker stops; even a retryable failure of a cancelled step ends it cancelled.
    done = await ledger.steps.fail(ref, "w1", at(5), "Cancelled.", at(6), RATES)
    assert done is not None
    assert done.steps[0].status is StepStatus.CANCELLED
    assert done.execution.status is ExecutionStatus.CANCELLED


async def test_cancelling_a_finished_execution_changes_nothing(ledger: SqlLedger) -> None:
    team_id = await team(ledger)
    await ledger.executions.create(new_execution(team_id, ["convert"]), T0)
    claim = await claimed(ledger, "w1", at(1))
    await ledger.steps.complete(claim.step.ref, "w1", at(2), output(claim.step.ref), RATES)
    snapshot = await ledger.executions.cancel(claim.step.execution_id, team_id, at(3), RATES)
    assert snapshot is not None
    assert snapshot.execution.status is ExecutionStatus.COMPLETED


async def test_release_hands_the_step_back_uncharged(ledger: SqlLedger) -> None:
    team_id = await team(ledger)
    await ledger.executions.create(new_execution(team_id, ["convert"], max_attempts=3), T0)
    claim = await claimed(ledger, "w1", at(1))
    released = await ledger.steps.release(claim.step.ref, "w1", at(2))
    assert released is not None
    step = released.steps[0]
    assert (step.status, step.attempt, step.max_attempts) == (StepStatus.DISPATCHED, 2, 4)
    # The old attempt is fenced off; another worker takes the new one.
    assert await ledger.steps.release(claim.step.ref, "w1", at(3)) is None
    again = await claimed(ledger, "w2", at(3))
    assert again.step.attempt == 2
