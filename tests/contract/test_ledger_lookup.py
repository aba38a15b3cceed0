"""Finding a step by its lookup key (the poll of a single-shot request) and the owner of a
checkpoint, on every SQL dialect: another team's key or checkpoint is not found."""

from __future__ import annotations

from pagemill.adapters.sql import SqlLedger
from tests.contract.ledger_kit import RATES, T0, at, claimed, new_execution, output, team


async def test_a_lookup_key_finds_its_step_for_its_team_only(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    await team(ledger, "team_b")
    snapshot = await ledger.executions.create(new_execution("team_a", ["convert", "extract"]), T0)
    first, second = snapshot.steps
    execution_id = snapshot.execution.execution_id

    assert await ledger.executions.by_lookup_key(first.lookup_key, "team_a") == (execution_id, 0)
    assert await ledger.executions.by_lookup_key(second.lookup_key, "team_a") == (
        execution_id,
        1,
    )
    assert await ledger.executions.by_lookup_key(first.lookup_key, "team_b") is None
    assert await ledger.executions.by_lookup_key("req_unknown", "team_a") is None


async def test_a_checkpoint_belongs_to_the_team_whose_step_wrote_it(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    await team(ledger, "team_b")
    await ledger.executions.create(new_execution("team_a", ["convert"]), T0)
    claim = await claimed(ledger, "w1", at(1))
    done = output(claim.step.ref)
    assert await ledger.steps.complete(claim.step.ref, "w1", at(2), done, RATES) is not None
    checkpoint_id = done.checkpoint_id
    assert checkpoint_id is not None

    assert await ledger.executions.checkpoint_owned(checkpoint_id, "team_a") is True
    assert await ledger.executions.checkpoint_owned(checkpoint_id, "team_b") is False
    assert await ledger.executions.checkpoint_owned("ckpt_unknown", "team_a") is False
