"""A team's executions across its pipelines, newest first, a page at a time (keyset cursor),
with the dashboard's filters, on every SQL dialect: another team's executions never appear."""

from __future__ import annotations

from pagemill.adapters.sql import SqlLedger
from pagemill.domain.models import ExecutionSnapshot
from pagemill.domain.statuses import ExecutionStatus
from pagemill.ports.ledger.executions import ExecutionCursor
from tests.contract.ledger_kit import RATES, at, new_execution, team


async def _create(ledger: SqlLedger, team_id: str, pipeline_id: str, second: float) -> str:
    new = new_execution(team_id, ["convert"], pipeline_id=pipeline_id)
    await ledger.executions.create(new, at(second))
    return new.execution_id


async def test_recent_pages_newest_first_across_pipelines_for_the_team_only(
    ledger: SqlLedger,
) -> None:
    await team(ledger, "team_a")
    await team(ledger, "team_b")
    created = [
        (await _create(ledger, "team_a", f"pl_{i % 3}", second), second)
        for i, second in enumerate([1, 2, 3, 3, 3, 4, 5])  # three created at the same instant
    ]
    await _create(ledger, "team_b", "pl_0", 6)  # newer, but another team's
    newest_first = [
        execution_id
        for execution_id, _ in sorted(created, key=lambda c: (c[1], c[0]), reverse=True)
    ]

    pages: list[list[str]] = []
    cursor: ExecutionCursor | None = None
    while found := await ledger.executions.recent("team_a", before=cursor, limit=3):
        pages.append([s.execution.execution_id for s in found])
        last = found[-1].execution
        cursor = ExecutionCursor(last.created, last.execution_id)
        assert all(s.steps and s.execution.team_id == "team_a" for s in found)

    assert [len(p) for p in pages] == [3, 3, 1]
    assert [x for page in pages for x in page] == newest_first
    assert await ledger.executions.recent("team_c", limit=10) == []


async def test_recent_filters_by_pipeline_and_status(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    await team(ledger, "team_b")
    first = await _create(ledger, "team_a", "pl_x", 1)
    second = await _create(ledger, "team_a", "pl_y", 2)
    third = await _create(ledger, "team_a", "pl_x", 3)
    theirs = await _create(ledger, "team_b", "pl_x", 4)
    assert await ledger.executions.cancel(first, "team_a", at(5), RATES) is not None
    assert await ledger.executions.cancel(theirs, "team_b", at(5), RATES) is not None

    def ids(found: list[ExecutionSnapshot]) -> list[str]:
        return [s.execution.execution_id for s in found]

    recent = ledger.executions.recent
    assert ids(await recent("team_a", pipeline_id="pl_x", limit=10)) == [third, first]
    cancelled = ExecutionStatus.CANCELLED
    assert ids(await recent("team_a", status=cancelled, limit=10)) == [first]
    assert ids(await recent("team_a", pipeline_id="pl_y", status=cancelled, limit=10)) == []
    pending = [
        s.execution.execution_id
        for s in await recent("team_a", limit=10)
        if s.execution.status is not cancelled
    ]
    assert pending == [third, second]
