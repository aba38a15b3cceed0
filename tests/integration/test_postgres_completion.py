"""A step's completion on PostgreSQL: its round trips (data-modifying CTEs, not six
statements), and that the merged statements still write everything a completion writes."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from pagemill.adapters.sql import SqlLedger, create_ledger
from pagemill.adapters.sql.migrate import migrate_async
from pagemill.adapters.sql.tables import step_cache, step_results
from pagemill.domain.statuses import ExecutionStatus, StepStatus
from tests.contract.ledger_kit import RATES, at, claimed, new_execution, output, team
from tests.integration.test_postgres_connections import RoundTrips
from tests.support.postgres import postgres_database_async

pytestmark = pytest.mark.postgres


@pytest.fixture
async def ledger() -> AsyncIterator[SqlLedger]:
    async with postgres_database_async() as url:
        await migrate_async(url)
        store = create_ledger(url)
        try:
            yield store
        finally:
            await store.close()


async def test_a_completion_is_a_lock_and_two_statements(
    ledger: SqlLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    await team(ledger)
    created = await ledger.executions.create(new_execution("team_a", ["convert", "extract"]), at(0))
    execution_id = created.execution.execution_id
    claim = await claimed(ledger, "w1", at(1))
    first = dataclasses.replace(
        output(claim.step.ref, pages=4), cache={"status": "miss"}, cache_key="k" * 64
    )
    trips = RoundTrips(monkeypatch)

    done = await ledger.steps.complete(claim.step.ref, "w1", at(2), first, RATES)

    # The lock, then the step's compare-and-set with the next step's dispatch and the steps'
    # read, then result, cache entry and execution in one UPDATE: no webhook, no queue hook.
    assert trips.take() == {"BEGIN": 1, "SELECT": 1, "WITH": 2, "COMMIT": 1}
    assert done is not None
    assert [s.status for s in done.steps] == [StepStatus.COMPLETED, StepStatus.DISPATCHED]
    assert (done.steps[1].attempt, done.steps[1].available_at) == (1, at(2))
    assert done.execution.status is ExecutionStatus.RUNNING
    assert done.execution.page_count == 4
    assert done.execution.seq == claim.execution.seq + 1

    second = await claimed(ledger, "w1", at(3))
    finished = await ledger.steps.complete(
        second.step.ref, "w1", at(4), output(second.step.ref, pages=9), RATES
    )
    assert finished is not None
    assert finished.execution.status is ExecutionStatus.COMPLETED
    assert finished.execution.completed_at == at(4)
    assert finished.execution.page_count == 4  # the first step that counted pages fixes it
    assert finished.execution.rate_breakdown is not None
    async with ledger.database.read() as conn:
        results = (
            await conn.execute(
                sa.select(step_results.c.step_index, step_results.c.page_count)
                .where(step_results.c.execution_id == execution_id)
                .order_by(step_results.c.step_index)
            )
        ).all()
        cache = (await conn.execute(sa.select(step_cache.c.source_execution_id))).all()
    assert [tuple(r) for r in results] == [(0, 4), (1, 9)]
    assert [tuple(r) for r in cache] == [(execution_id,)]

    trips.take()
    late = await ledger.steps.complete(claim.step.ref, "w1", at(5), first, RATES)
    assert late is None  # fenced: the step is no longer this attempt's
    assert trips.take() == {"BEGIN": 1, "SELECT": 1, "WITH": 1, "COMMIT": 1}
