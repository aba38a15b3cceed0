"""The retention part of the ledger contract: expiry set when an execution ends, purging once,
deleting with everything recorded, and blobs released only when nobody else names them."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest

from pagemill.adapters.sql import SqlLedger
from pagemill.domain.errors import Conflict
from pagemill.domain.idempotency import IdempotencyClaim
from pagemill.domain.models import ReusedStep, StepOutput
from pagemill.domain.statuses import StepStatus
from pagemill.ports.ledger.retention import BlobRole
from tests.contract.ledger_kit import T0, at, claimed, new_execution, output, team

RATES = {"convert": 400}


async def finished(
    ledger: SqlLedger, team_id: str, start: float, retention: int | None = 60, **kw: object
) -> tuple[str, StepOutput]:
    """One convert execution run to completion at ``start`` + 2 s; its id and output."""
    new = dataclasses.replace(
        new_execution(team_id, ["convert"], **kw),  # type: ignore[arg-type]
        retention_seconds=retention,
    )
    await ledger.executions.create(new, at(start))
    claim = await claimed(ledger, "w1", at(start + 1))
    done = dataclasses.replace(
        output(claim.step.ref), cache={"status": "miss"}, cache_key=f"{new.execution_id:0>64}"[-64:]
    )
    snapshot = await ledger.steps.complete(claim.step.ref, "w1", at(start + 2), done, RATES)
    assert snapshot is not None
    return new.execution_id, done


async def test_expiry_is_set_when_the_execution_ends(ledger: SqlLedger) -> None:
    team_id = await team(ledger)
    execution_id, _ = await finished(ledger, team_id, 0, retention=60)
    kept, _ = await finished(ledger, team_id, 10, retention=None, pipeline_id="pl_two")

    execution = await ledger.executions.get(execution_id)
    assert execution is not None
    assert execution.retention_seconds == 60
    assert execution.expires_at == at(2) + timedelta(seconds=60)
    forever = await ledger.executions.get(kept)
    assert forever is not None and forever.expires_at is None

    assert await ledger.retention.due(at(61), 10) == []
    assert await ledger.retention.due(at(62), 10) == [execution_id]


async def test_an_execution_is_purged_once(ledger: SqlLedger) -> None:
    team_id = await team(ledger)
    execution_id, done = await finished(ledger, team_id, 0, retention=60)
    assert await ledger.retention.purge(execution_id, at(30)) is None  # not due yet

    outcomes = await asyncio.gather(
        *(ledger.retention.purge(execution_id, at(70)) for _ in range(4))
    )

    winners = [o for o in outcomes if o is not None]
    assert len(winners) == 1
    released = winners[0]
    assert released.input_keys == ["inputs/pl_one.pdf"]
    assert released.result_keys == [done.result_key]
    assert released.checkpoint_ids == [done.checkpoint_id]
    execution = await ledger.executions.get(execution_id)
    assert execution is not None and execution.purged_at == at(70)
    assert await ledger.retention.due(at(80), 10) == []
    assert done.cache_key is not None
    assert await ledger.steps.cached(team_id, done.cache_key) is None  # no reuse of purged work


async def test_delete_removes_every_record(ledger: SqlLedger) -> None:
    team_id = await team(ledger)
    await team(ledger, "team_b")
    claim = IdempotencyClaim("key", "f" * 64, at(999))
    new = dataclasses.replace(new_execution(team_id, ["convert"]), idempotency=claim)
    await ledger.executions.create(new, T0)
    with pytest.raises(Conflict):  # still running
        await ledger.retention.delete(new.execution_id, team_id)
    step = await claimed(ledger, "w1", at(1))
    done = dataclasses.replace(output(step.step.ref), cache={"status": "miss"}, cache_key="k" * 64)
    await ledger.steps.complete(step.step.ref, "w1", at(2), done, RATES)

    assert await ledger.retention.delete(new.execution_id, "team_b") is None
    released = await ledger.retention.delete(new.execution_id, team_id)

    assert released is not None
    assert released.result_keys == [done.result_key]
    assert await ledger.executions.get(new.execution_id) is None
    assert await ledger.executions.steps(new.execution_id) == []
    assert await ledger.executions.count_results(new.execution_id, 0) == 0
    assert await ledger.steps.cached(team_id, "k" * 64) is None
    assert await ledger.idempotency.find(team_id, "key", at(3)) is None
    assert await ledger.retention.delete(new.execution_id, team_id) is None


async def test_shared_blobs_are_released_by_the_last_holder(ledger: SqlLedger) -> None:
    team_id = await team(ledger)
    # Both name the same input (same pipeline in the kit), and the second reuses the
    # first's checkpoint, as an executor cache hit does.
    first, first_out = await finished(ledger, team_id, 0, retention=60)
    new = dataclasses.replace(new_execution(team_id, ["convert"]), retention_seconds=600)
    await ledger.executions.create(new, at(10))
    claim = await claimed(ledger, "w1", at(11))
    hit = StepOutput(f"results/{new.execution_id}", first_out.checkpoint_id, 3, {"status": "hit"})
    await ledger.steps.complete(claim.step.ref, "w1", at(12), hit, RATES)

    early = await ledger.retention.purge(first, at(70))
    assert early is not None
    assert (early.input_keys, early.checkpoint_ids) == ([], [])  # the second still needs them
    assert early.result_keys == [first_out.result_key]

    late = await ledger.retention.delete(new.execution_id, team_id)
    assert late is not None
    assert late.input_keys == ["inputs/pl_one.pdf"]
    assert late.checkpoint_ids == [first_out.checkpoint_id]
    assert late.result_keys == [hit.result_key]
    # Deleting the purged one later releases nothing twice.
    again = await ledger.retention.delete(first, team_id)
    assert again is not None and (again.input_keys, again.result_keys) == ([], [])


async def test_team_and_pipeline_retention_are_stored(ledger: SqlLedger) -> None:
    team_id = await team(ledger)
    assert await ledger.tenancy.set_team_retention(team_id, 3600)
    assert not await ledger.tenancy.set_team_retention("team_z", 3600)
    stored = await ledger.tenancy.team(team_id)
    assert stored is not None and stored.retention_seconds == 3600
    assert await ledger.tenancy.set_team_retention(team_id, None)
    cleared = await ledger.tenancy.team(team_id)
    assert cleared is not None and cleared.retention_seconds is None

    pipeline = await ledger.pipelines.create(team_id, "pl_ret", [{"type": "convert"}], T0)
    assert pipeline.retention_seconds is None
    changed = await ledger.pipelines.update(team_id, "pl_ret", at(1), retention_seconds=120)
    assert changed is not None and changed.retention_seconds == 120
    read = await ledger.pipelines.get(team_id, "pl_ret")
    assert read is not None and read.retention_seconds == 120


async def test_a_rerun_starts_after_the_steps_it_reuses(ledger: SqlLedger) -> None:
    team_id = await team(ledger)
    parent_id, parent_out = await finished(ledger, team_id, 0)
    reused = ReusedStep(parent_out.result_key, parent_out.checkpoint_id, 3, parent_id, 0)
    new = dataclasses.replace(
        new_execution(team_id, ["convert", "segment"]),
        reused=(reused,),
        parent_execution_id=parent_id,
        page_count=3,
    )

    created = await ledger.executions.create(new, at(10))

    assert created.execution.parent_execution_id == parent_id
    assert created.execution.page_count == 3
    first, second = created.steps
    assert (first.status, first.result_key, first.checkpoint_id) == (
        StepStatus.COMPLETED,
        parent_out.result_key,
        parent_out.checkpoint_id,
    )
    assert first.cache == reused.outcome
    assert (second.status, second.attempt) == (StepStatus.DISPATCHED, 1)
    assert await ledger.executions.count_results(new.execution_id, 0) == 1
    claim = await claimed(ledger, "w1", at(11))
    assert claim.step.step_index == 1
    assert claim.upstream is not None and claim.upstream.checkpoint_id == parent_out.checkpoint_id
    done = await ledger.steps.complete(
        claim.step.ref, "w1", at(12), output(claim.step.ref), {"convert": 400, "segment": 200}
    )
    assert done is not None and done.execution.rate_breakdown is not None
    lines = done.execution.rate_breakdown["steps"]
    assert [line["cost_cents"] > 0 for line in lines] == [False, True]  # reused: not charged


async def test_referenced_names_only_what_an_unpurged_execution_or_the_cache_needs(
    ledger: SqlLedger,
) -> None:
    team_id = await team(ledger)
    expired, gone = await finished(ledger, team_id, 0, retention=60)
    kept, live = await finished(ledger, team_id, 10, retention=None, pipeline_id="pl_two")
    assert live.checkpoint_id is not None and gone.checkpoint_id is not None
    kept_execution = await ledger.executions.get(kept)
    assert kept_execution is not None

    inputs = [kept_execution.input_key, "inputs/never-named"]
    results = [live.result_key, gone.result_key, "results/xx/never.0.1.json"]
    checkpoints = [live.checkpoint_id, gone.checkpoint_id, "never"]
    # Before the purge, both executions need their blobs (and the cache names them too).
    assert await ledger.retention.referenced(BlobRole.RESULT, results) == {
        live.result_key,
        gone.result_key,
    }

    assert await ledger.retention.purge(expired, at(70)) is not None
    assert await ledger.retention.referenced(BlobRole.INPUT, inputs) == {inputs[0]}
    assert await ledger.retention.referenced(BlobRole.RESULT, results) == {live.result_key}
    assert await ledger.retention.referenced(BlobRole.CHECKPOINT, checkpoints) == {
        live.checkpoint_id
    }
    assert await ledger.retention.referenced(BlobRole.INPUT, []) == set()
