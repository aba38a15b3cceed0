"""The executor-cache part of the ledger contract (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses

from pagemill.adapters.sql import SqlLedger
from tests.contract.ledger_kit import T0, at, claimed, new_execution, output, team

RATES = {"convert": 400}


async def test_a_completed_miss_is_remembered_per_team(ledger: SqlLedger) -> None:
    team_a = await team(ledger, "team_a")
    await team(ledger, "team_b")
    await ledger.executions.create(new_execution(team_a, ["convert"]), T0)
    claim = await claimed(ledger, "w1", at(1))
    done = dataclasses.replace(output(claim.step.ref), cache={"status": "miss"}, cache_key="k" * 64)
    snapshot = await ledger.steps.complete(claim.step.ref, "w1", at(2), done, RATES)
    assert snapshot is not None
    assert snapshot.steps[0].cache == {"status": "miss"}

    entry = await ledger.steps.cached(team_a, "k" * 64)
    assert entry is not None
    assert (entry.result_key, entry.checkpoint_id, entry.page_count) == (
        done.result_key,
        done.checkpoint_id,
        3,
    )
    assert (entry.source_execution_id, entry.source_step_index) == (claim.step.execution_id, 0)
    assert await ledger.steps.cached("team_b", "k" * 64) is None
    assert await ledger.steps.cached(team_a, "x" * 64) is None


async def test_hits_are_not_re_remembered_and_newer_work_wins(ledger: SqlLedger) -> None:
    team_a = await team(ledger)
    first = await ledger.executions.create(new_execution(team_a, ["convert"]), T0)
    claim = await claimed(ledger, "w1", at(1))
    await ledger.steps.complete(
        claim.step.ref,
        "w1",
        at(2),
        dataclasses.replace(output(claim.step.ref), cache={"status": "miss"}, cache_key="k" * 64),
        RATES,
    )
    second = await ledger.executions.create(new_execution(team_a, ["convert"]), at(3))
    claim = await claimed(ledger, "w1", at(4))
    hit = dataclasses.replace(output(claim.step.ref), cache={"status": "hit"}, cache_key="k" * 64)
    await ledger.steps.complete(claim.step.ref, "w1", at(5), hit, RATES)
    entry = await ledger.steps.cached(team_a, "k" * 64)
    assert entry is not None and entry.source_execution_id == first.execution.execution_id

    third = await ledger.executions.create(new_execution(team_a, ["convert"]), at(6))
    claim = await claimed(ledger, "w1", at(7))
    fresh = dataclasses.replace(
        output(claim.step.ref), cache={"status": "bypass"}, cache_key="k" * 64
    )
    await ledger.steps.complete(claim.step.ref, "w1", at(8), fresh, RATES)
    entry = await ledger.steps.cached(team_a, "k" * 64)
    assert entry is not None and entry.source_execution_id == third.execution.execution_id
    assert second.execution.execution_id not in (entry.source_execution_id,)
