"""The execution lifecycle in the ledger contract: claims, completion, failures, fencing,
races and the reaper's queries (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from pagemill.adapters.sql import SqlLedger
from pagemill.adapters.sql.tables import executions, step_runs
from pagemill.domain.models import (
    ExecutionSnapshot,
    StepRef,
)
from pagemill.domain.rates import execution_rate_breakdown
from pagemill.domain.statuses import ExecutionStatus, StepStatus
from tests.contract.ledger_kit import LEASE, RATES, T0, at, claimed, new_execution, output, team

# -- the execution lifecycle -------------------------------------------------------------------


async def test_execution_runs_step_by_step_to_completed(ledger: SqlLedger) -> None:
    await team(ledger)
    new = new_execution("team_a", ["convert", "extract"])
    seqs: list[int] = []

    created = await ledger.executions.create(new, T0)

    execution = created.execution
    assert (execution.execution_id, execution.status, execution.seq) == (
        new.execution_id,
        ExecutionStatus.PENDING,
        1,
    )
    assert execution.created == T0
    assert (execution.started_at, execution.completed_at, execution.rate_breakdown) == (
        None,
        None,
        None,
    )
    assert execution.config_snapshot == new.config_snapshot
    assert execution.input_config == new.input_config
    first, second = created.steps
    assert (first.status, first.attempt, first.available_at) == (StepStatus.DISPATCHED, 1, T0)
    assert (second.status, second.attempt, second.available_at) == (StepStatus.PENDING, 0, None)
    assert (first.step_type, first.settings, first.max_attempts) == ("convert", {"index": 0}, 3)
    assert first.lookup_key.startswith("req_")
    assert second.lookup_key.startswith("req_")
    assert first.lookup_key != second.lookup_key
    seqs.append(execution.seq)

    claim = await claimed(ledger, "w1", at(1))
    assert claim.step.ref == StepRef(new.execution_id, 0, 1)
    assert claim.step.status is StepStatus.RUNNING
    assert (claim.step.lease_owner, claim.step.lease_expires_at) == ("w1", at(1 + LEASE))
    assert claim.step.heartbeat_at == claim.step.started_at == at(1)
    assert claim.upstream is None
    assert claim.execution.status is ExecutionStatus.RUNNING
    assert claim.execution.started_at == at(1)
    assert claim.snapshot.execution == claim.execution
    assert claim.snapshot.steps[0] == claim.step
    seqs.append(claim.execution.seq)
    assert await ledger.steps.claim_next("w2", at(1), LEASE, None) is None

    beat = await ledger.steps.heartbeat(claim.step.ref, "w1", at(5), LEASE)
    assert beat.held
    assert not beat.cancel_requested
    after_beat = await ledger.executions.get(new.execution_id)
    assert after_beat is not None
    assert after_beat.seq == seqs[-1]

    done = await ledger.steps.complete(claim.step.ref, "w1", at(10), output(claim.step.ref), RATES)
    assert done is not None
    step0, step1 = done.steps
    assert (step0.status, step0.finished_at) == (StepStatus.COMPLETED, at(10))
    assert (step0.lease_owner, step0.lease_expires_at) == (None, None)
    assert step0.result_key == output(claim.step.ref).result_key
    assert (step1.status, step1.attempt, step1.available_at) == (StepStatus.DISPATCHED, 1, at(10))
    assert done.execution.status is ExecutionStatus.RUNNING
    assert await ledger.executions.count_results(new.execution_id, 0) == 1
    seqs.append(done.execution.seq)

    claim2 = await claimed(ledger, "w2", at(11))
    assert claim2.step.ref == StepRef(new.execution_id, 1, 1)
    assert claim2.upstream == step0
    assert claim2.execution.started_at == at(1)  # the first claim's time is kept
    seqs.append(claim2.execution.seq)

    final = await ledger.steps.complete(
        claim2.step.ref, "w2", at(20), output(claim2.step.ref, pages=99), RATES
    )
    assert final is not None
    assert final.execution.status is ExecutionStatus.COMPLETED
    assert final.execution.completed_at == at(20)
    # The page count of the first completed step is the one billed.
    assert final.execution.rate_breakdown == execution_rate_breakdown(
        ["convert", "extract"], [True, True], 3, RATES
    )
    assert [s.status for s in final.steps] == [StepStatus.COMPLETED, StepStatus.COMPLETED]
    seqs.append(final.execution.seq)
    assert seqs == sorted(set(seqs))
    assert seqs[0] == 1
    assert seqs[-1] == 5

    assert await ledger.executions.get(new.execution_id, "team_a") == final.execution
    assert await ledger.executions.get(new.execution_id, "team_other") is None
    assert await ledger.executions.get(new.execution_id) == final.execution
    assert await ledger.executions.steps(new.execution_id) == final.steps
    assert await ledger.steps.claim_next("w1", at(100), LEASE, None) is None
    assert await ledger.steps.next_due(None) is None


async def test_claim_by_ref_is_exact_and_single(ledger: SqlLedger) -> None:
    await team(ledger)
    created = await ledger.executions.create(new_execution("team_a", ["convert"]), T0)
    ref = created.steps[0].ref

    assert await ledger.steps.claim(StepRef(ref.execution_id, 0, 2), "w1", T0, LEASE) is None
    assert await ledger.steps.claim(StepRef("pex_missing", 0, 1), "w1", T0, LEASE) is None
    claim = await ledger.steps.claim(ref, "w1", T0, LEASE)
    assert claim is not None
    assert claim.step.lease_owner == "w1"
    assert claim.snapshot.execution.seq == 2
    # A duplicate delivery of the same attempt finds it running: harmless.
    assert await ledger.steps.claim(ref, "w2", T0, LEASE) is None
    # The refused claims left nothing behind (the claim counts the execution before its
    # compare-and-set on the step, and rolls back when that fails).
    assert await ledger.executions.get(ref.execution_id) == claim.execution


async def test_a_claim_by_ref_returns_the_stored_snapshot(ledger: SqlLedger) -> None:
    await team(ledger)
    created = await ledger.executions.create(new_execution("team_a", ["convert", "extract"]), T0)
    execution_id = created.execution.execution_id
    first = await ledger.steps.claim(created.steps[0].ref, "w1", at(1), LEASE)
    assert first is not None
    assert first.snapshot.steps[1] == created.steps[1]  # untouched, as stored
    done = await ledger.steps.complete(first.step.ref, "w1", at(2), output(first.step.ref), RATES)
    assert done is not None

    second = await ledger.steps.claim(done.steps[1].ref, "w2", at(3), LEASE)

    assert second is not None
    assert second.snapshot.execution == await ledger.executions.get(execution_id)
    assert second.snapshot.steps == await ledger.executions.steps(execution_id)
    assert second.upstream == done.steps[0]
    assert (second.step.status, second.step.lease_owner) == (StepStatus.RUNNING, "w2")
    assert second.execution.seq == done.execution.seq + 1


async def test_a_claim_takes_the_execution_before_the_step(ledger: SqlLedger) -> None:
    """Every transition locks the execution row first. A claim that locked its step first would
    deadlock with a cancellation that holds the execution and then updates the steps."""
    if ledger.dialect == "sqlite":
        pytest.skip("SQLite serializes whole write transactions: there are no row locks")
    await team(ledger)
    created = await ledger.executions.create(new_execution("team_a", ["convert"]), T0)
    ref = created.steps[0].ref
    engine = ledger.database.engine
    async with engine.connect() as canceller, engine.connect() as observer:
        async with canceller.begin():
            await canceller.execute(
                sa.select(executions.c.id)
                .where(executions.c.execution_id == ref.execution_id)
                .with_for_update()
            )
            claiming = asyncio.create_task(ledger.steps.claim(ref, "w1", at(1), LEASE))
            await _until_waiting_for_a_lock(observer)
            # What a cancellation does next: take the steps. NOWAIT fails if the claim has them.
            await canceller.execute(
                sa.select(step_runs.c.step_index)
                .where(step_runs.c.execution_id == ref.execution_id)
                .with_for_update(nowait=True)
            )
        claim = await claiming
    assert claim is not None
    assert claim.step.ref == ref


async def _until_waiting_for_a_lock(observer: AsyncConnection) -> None:
    waiting = sa.text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    for _ in range(1000):
        if (await observer.execute(waiting)).scalar_one():
            return
        await observer.rollback()  # a fresh view of the activity next time
        await asyncio.sleep(0.01)
    raise AssertionError("the claim never waited for the execution's lock")


async def test_retry_then_success(ledger: SqlLedger) -> None:
    await team(ledger)
    created = await ledger.executions.create(new_execution("team_a", ["convert"]), T0)
    first = await claimed(ledger, "w1", at(1))

    retried = await ledger.steps.fail(first.step.ref, "w1", at(2), "timeout", at(60), RATES)

    assert retried is not None
    step = retried.steps[0]
    assert (step.status, step.attempt, step.available_at) == (StepStatus.DISPATCHED, 2, at(60))
    assert (step.lease_owner, step.lease_expires_at, step.error_message) == (None, None, "timeout")
    assert retried.execution.status is ExecutionStatus.RUNNING
    assert retried.execution.seq == first.execution.seq + 1
    assert await ledger.steps.claim_next("w1", at(59), LEASE, None) is None
    assert await ledger.steps.next_due(None) == at(60)

    second = await claimed(ledger, "w2", at(60))
    assert second.step.ref == StepRef(created.execution.execution_id, 0, 2)
    done = await ledger.steps.complete(
        second.step.ref, "w2", at(61), output(second.step.ref), RATES
    )

    assert done is not None
    assert done.execution.status is ExecutionStatus.COMPLETED
    assert (done.steps[0].status, done.steps[0].error_message) == (StepStatus.COMPLETED, None)
    assert await ledger.executions.count_results(created.execution.execution_id, 0) == 1


async def test_failure_without_retry_fails_and_skips_the_rest(ledger: SqlLedger) -> None:
    await team(ledger)
    await ledger.executions.create(new_execution("team_a", ["convert", "segment", "extract"]), T0)
    claim = await claimed(ledger, "w1", at(1))

    failed = await ledger.steps.fail(claim.step.ref, "w1", at(2), "corrupt PDF", None, RATES)

    assert failed is not None
    assert [s.status for s in failed.steps] == [
        StepStatus.FAILED,
        StepStatus.SKIPPED,
        StepStatus.SKIPPED,
    ]
    assert (failed.steps[0].error_message, failed.steps[0].finished_at) == ("corrupt PDF", at(2))
    assert failed.execution.status is ExecutionStatus.FAILED
    assert (failed.execution.completed_at, failed.execution.error_message) == (
        at(2),
        "corrupt PDF",
    )
    assert failed.execution.rate_breakdown == execution_rate_breakdown(
        ["convert", "segment", "extract"], [False, False, False], 0, RATES
    )
    assert await ledger.steps.claim_next("w1", at(100), LEASE, None) is None


async def test_retries_stop_at_max_attempts(ledger: SqlLedger) -> None:
    await team(ledger)
    await ledger.executions.create(new_execution("team_a", ["convert"], max_attempts=2), T0)
    first = await claimed(ledger, "w1", at(1))
    assert await ledger.steps.fail(first.step.ref, "w1", at(2), "boom", at(3), RATES) is not None
    second = await claimed(ledger, "w1", at(3))
    assert second.step.attempt == 2

    last = await ledger.steps.fail(second.step.ref, "w1", at(4), "boom again", at(5), RATES)

    assert last is not None
    assert (last.steps[0].status, last.steps[0].attempt) == (StepStatus.FAILED, 2)
    assert last.execution.status is ExecutionStatus.FAILED


async def test_failure_after_a_completed_step_is_completed_with_errors(ledger: SqlLedger) -> None:
    await team(ledger)
    await ledger.executions.create(new_execution("team_a", ["convert", "segment", "extract"]), T0)
    convert = await claimed(ledger, "w1", at(1))
    await ledger.steps.complete(convert.step.ref, "w1", at(2), output(convert.step.ref, 10), RATES)
    segment = await claimed(ledger, "w1", at(3))

    result = await ledger.steps.fail(segment.step.ref, "w1", at(4), "bad schema", None, RATES)

    assert result is not None
    assert [s.status for s in result.steps] == [
        StepStatus.COMPLETED,
        StepStatus.FAILED,
        StepStatus.SKIPPED,
    ]
    assert result.execution.status is ExecutionStatus.COMPLETED_WITH_ERRORS
    assert result.execution.rate_breakdown == execution_rate_breakdown(
        ["convert", "segment", "extract"], [True, False, False], 10, RATES
    )
    assert result.execution.rate_breakdown is not None
    assert result.execution.rate_breakdown["total_cost_cents"] == 4


# -- fencing and races -------------------------------------------------------------------------


async def test_a_lost_attempt_is_fenced_off(ledger: SqlLedger) -> None:
    await team(ledger)
    created = await ledger.executions.create(new_execution("team_a", ["convert"]), T0)
    execution_id = created.execution.execution_id
    lost = await claimed(ledger, "w1", at(1))
    assert not (await ledger.steps.heartbeat(lost.step.ref, "w2", at(2), LEASE)).held
    # The reaper requeues the attempt of w1 (its lease expired), and w2 claims attempt 2.
    assert await ledger.steps.fail(lost.step.ref, "w1", at(40), "lease lost", at(40), RATES)
    winner = await claimed(ledger, "w2", at(41))

    assert not (await ledger.steps.heartbeat(lost.step.ref, "w1", at(42), LEASE)).held
    assert (
        await ledger.steps.complete(lost.step.ref, "w1", at(43), output(lost.step.ref), RATES)
        is None
    )
    assert await ledger.steps.fail(lost.step.ref, "w1", at(43), "late", None, RATES) is None
    assert await ledger.executions.count_results(execution_id, 0) == 0

    done = await ledger.steps.complete(
        winner.step.ref, "w2", at(44), output(winner.step.ref), RATES
    )
    assert done is not None
    assert done.execution.status is ExecutionStatus.COMPLETED
    assert done.steps[0].result_key == output(winner.step.ref).result_key
    # A duplicate completion of the winner after the fact changes nothing either.
    assert (
        await ledger.steps.complete(winner.step.ref, "w2", at(45), output(winner.step.ref), RATES)
        is None
    )
    assert await ledger.executions.count_results(execution_id, 0) == 1
    after = await ledger.executions.get(execution_id)
    assert after == done.execution


async def test_concurrent_claims_take_each_step_exactly_once(ledger: SqlLedger) -> None:
    await team(ledger)
    ids = []
    for _ in range(8):
        created = await ledger.executions.create(new_execution("team_a", ["convert"]), T0)
        ids.append(created.execution.execution_id)

    claims = await asyncio.gather(
        *(ledger.steps.claim_next(f"w{i}", at(1), LEASE, None) for i in range(8))
    )

    refs = [c.step.ref for c in claims if c is not None]
    assert sorted(r.execution_id for r in refs) == sorted(ids)
    assert len({c.step.lease_owner for c in claims if c is not None}) == 8
    assert await ledger.steps.claim_next("w9", at(1), LEASE, None) is None


async def test_claims_follow_availability_then_creation_order(ledger: SqlLedger) -> None:
    await team(ledger)
    late = await ledger.executions.create(new_execution("team_a", ["convert"]), at(5))
    early_a = await ledger.executions.create(new_execution("team_a", ["convert"]), T0)
    early_b = await ledger.executions.create(new_execution("team_a", ["convert"]), T0)

    order = [(await claimed(ledger, "w", at(10))).execution.execution_id for _ in range(3)]

    assert order == [x.execution.execution_id for x in (early_a, early_b, late)]


async def test_racing_completion_and_failure_finalize_once(ledger: SqlLedger) -> None:
    await team(ledger)
    claims = []
    for _ in range(6):
        await ledger.executions.create(new_execution("team_a", ["convert"]), T0)
        claims.append(await claimed(ledger, "w1", at(1)))

    outcomes = await asyncio.gather(
        *(
            call
            for claim in claims
            for call in (
                ledger.steps.complete(claim.step.ref, "w1", at(2), output(claim.step.ref), RATES),
                ledger.steps.fail(claim.step.ref, "w1", at(2), "reaped", None, RATES),
                ledger.steps.complete(claim.step.ref, "w1", at(2), output(claim.step.ref), RATES),
            )
        )
    )

    for index, claim in enumerate(claims):
        execution_id = claim.execution.execution_id
        results = outcomes[index * 3 : index * 3 + 3]
        winners = [r for r in results if r is not None]
        assert len(winners) == 1
        winner: ExecutionSnapshot = winners[0]
        assert winner.execution.seq == claim.execution.seq + 1
        stored = await ledger.executions.get(execution_id)
        assert stored == winner.execution
        completed = winner.execution.status is ExecutionStatus.COMPLETED
        assert completed or winner.execution.status is ExecutionStatus.FAILED
        assert await ledger.executions.count_results(execution_id, 0) == (1 if completed else 0)


# -- the reaper's and the dispatcher's queries -------------------------------------------------


async def test_expired_leases_others_leases_and_next_due(ledger: SqlLedger) -> None:
    await team(ledger)
    short = await ledger.executions.create(new_execution("team_a", ["convert"]), T0)
    long = await ledger.executions.create(new_execution("team_a", ["convert"]), at(1))
    odd = await ledger.executions.create(new_execution("team_a", ["convert"]), at(2))
    waiting = await ledger.executions.create(new_execution("team_a", ["extract"]), at(3))
    assert await ledger.steps.next_due(None) == T0
    assert await ledger.steps.next_due(["extract"]) == at(3)
    assert await ledger.steps.next_due(["custom"]) is None
    assert await ledger.steps.next_due([]) is None

    a = await ledger.steps.claim_next("boot1-w1", at(10), 10, ["convert"])
    b = await ledger.steps.claim_next("boot2-w1", at(10), 100, ["convert"])
    # ``_`` must match literally, not as a LIKE wildcard.
    c = await ledger.steps.claim_next("bootX-w1", at(10), 100, ["convert"])
    assert a is not None
    assert b is not None
    assert c is not None
    assert [x.execution.execution_id for x in (a, b, c)] == [
        x.execution.execution_id for x in (short, long, odd)
    ]
    assert await ledger.steps.claim_next("boot2-w2", at(10), LEASE, ["convert", "segment"]) is None
    assert await ledger.steps.claim_next("boot2-w2", at(10), LEASE, []) is None
    assert await ledger.steps.next_due(None) == at(3)

    assert await ledger.steps.expired_leases(at(15), 10) == []
    expired = await ledger.steps.expired_leases(at(50), 10)
    assert [s.ref for s in expired] == [a.step.ref]
    assert expired[0].lease_owner == "boot1-w1"
    assert len(await ledger.steps.expired_leases(at(500), 10)) == 3
    assert len(await ledger.steps.expired_leases(at(500), 2)) == 2

    others = await ledger.steps.leased_by_others("boot2-")
    assert {s.ref for s in others} == {a.step.ref, c.step.ref}
    others = await ledger.steps.leased_by_others("boot_-")
    assert {s.ref for s in others} == {a.step.ref, b.step.ref, c.step.ref}
    assert await ledger.steps.leased_by_others("boot") == []

    last = await ledger.steps.claim_next("boot2-w3", at(10), LEASE, None)
    assert last is not None
    assert last.execution.execution_id == waiting.execution.execution_id
    assert await ledger.steps.next_due(None) is None


async def test_list_executions_newest_first_with_total(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    await team(ledger, "team_b")
    made = []
    for i in range(4):
        new = new_execution("team_a", ["convert", "extract"], pipeline_id="pl_1")
        made.append((await ledger.executions.create(new, at(i // 2))).execution.execution_id)
    await ledger.executions.create(new_execution("team_a", ["convert"], pipeline_id="pl_2"), T0)
    await ledger.executions.create(new_execution("team_b", ["convert"], pipeline_id="pl_1"), T0)

    items, total = await ledger.executions.page("team_a", "pl_1", limit=3, offset=0)

    assert total == 4
    assert [s.execution.execution_id for s in items] == [made[3], made[2], made[1]]
    assert all(len(s.steps) == 2 for s in items)
    assert [s.step_index for s in items[0].steps] == [0, 1]
    rest, total = await ledger.executions.page("team_a", "pl_1", limit=3, offset=3)
    assert ([s.execution.execution_id for s in rest], total) == ([made[0]], 4)
    assert await ledger.executions.page("team_b", "pl_2", limit=3, offset=0) == ([], 0)
