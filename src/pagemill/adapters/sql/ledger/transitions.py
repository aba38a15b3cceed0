"""The shape every write transition of one execution takes, in as few statements as it can.

1. Lock the execution's head row (``SELECT … FOR UPDATE``; on SQLite the write transaction
   already holds the database lock and ``FOR UPDATE`` renders as nothing). Every transaction
   that changes steps of an execution takes this lock first: one lock order, no deadlocks
   between a claim, a completion and a cancellation of the same execution.
2. Change the steps (compare-and-set ``UPDATE``s).
3. Read the steps once, after the changes: they decide the finalization and form the snapshot.
4. One ``UPDATE`` of the execution that counts the transition (``seq``), finalizes it when
   asked and returns the row: no re-read of the execution.

The head read under the lock is what makes "finalize unless already terminal" safe to decide
in Python: nothing else changes the execution until this transaction ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from pagemill.adapters.sql.database import to_db
from pagemill.adapters.sql.ledger.rows import execution_from, step_from
from pagemill.adapters.sql.tables import executions, step_runs
from pagemill.domain.models import ExecutionSnapshot, StepRun
from pagemill.domain.rates import execution_rate_breakdown
from pagemill.domain.statuses import (
    TERMINAL_EXECUTION,
    ExecutionStatus,
    StepStatus,
    final_execution_status,
)

_TERMINAL = frozenset(s.value for s in TERMINAL_EXECUTION)


def timestamp(name: str) -> sa.BindParameter[datetime]:
    """A bind parameter typed as the stored column, so that SQLite compares it as text."""
    return sa.bindparam(name, type_=sa.DateTime(timezone=True))


@dataclass(frozen=True, slots=True)
class Head:
    """The columns of a locked execution that its transitions decide on."""

    team_id: str
    status: str
    page_count: int | None
    retention_seconds: int | None = None

    @property
    def terminal(self) -> bool:
        return self.status in _TERMINAL


# Prebuilt with bind parameters: building a statement costs more than running it here.
_HEAD = (
    sa.select(
        executions.c.team_id,
        executions.c.status,
        executions.c.page_count,
        executions.c.retention_seconds,
    )
    .where(executions.c.execution_id == sa.bindparam("e_id"))
    .with_for_update()
)
_STEPS = (
    sa.select(step_runs)
    .where(step_runs.c.execution_id == sa.bindparam("e_id"))
    .order_by(step_runs.c.step_index)
)


async def lock_head(conn: AsyncConnection, execution_id: str) -> Head | None:
    row = (await conn.execute(_HEAD, {"e_id": execution_id})).first()
    return None if row is None else Head(*row)


async def read_steps(conn: AsyncConnection, execution_id: str) -> list[StepRun]:
    return [step_from(row) for row in await conn.execute(_STEPS, {"e_id": execution_id})]


def final_values(
    steps: Sequence[StepRun],
    now: datetime,
    rates: dict[str, int],
    page_count: int | None,
    error: str | None,
    retention_seconds: int | None = None,
) -> dict[str, Any]:
    """The columns that make an execution terminal, decided by its steps' statuses; its
    results and checkpoints expire ``retention_seconds`` from now (None: never)."""
    statuses = [step.status for step in steps]
    final = final_execution_status(statuses)
    values: dict[str, Any] = {
        "status": final.value,
        "completed_at": to_db(now),
        "expires_at": (
            None if retention_seconds is None else to_db(now + timedelta(seconds=retention_seconds))
        ),
        "rate_breakdown": execution_rate_breakdown(
            [step.step_type for step in steps],
            # A rerun's reused steps did no work here: they are not charged again.
            [step.status is StepStatus.COMPLETED and not _reused(step) for step in steps],
            page_count or 0,
            rates,
        ),
    }
    if error is not None and final is not ExecutionStatus.COMPLETED:
        values["error_message"] = error
    return values


def _reused(step: StepRun) -> bool:
    return isinstance(step.cache, dict) and step.cache.get("status") == "reused"


def completion_values(
    head: Head,
    steps: Sequence[StepRun],
    *,
    page_count: int,
    dispatched: bool,
    now: datetime,
    rates: dict[str, int],
) -> dict[str, Any]:
    """The execution's columns after one of its steps completed: the billed page count (the
    first step that counts pages fixes it) and, when nothing was dispatched next and the
    execution is not already over, what makes it terminal."""
    values: dict[str, Any] = {}
    billed = head.page_count
    if billed is None:
        billed = values["page_count"] = page_count
    if not dispatched and not head.terminal:
        values |= final_values(steps, now, rates, billed, None, head.retention_seconds)
    return values


async def commit_transition(
    conn: AsyncConnection, execution_id: str, steps: list[StepRun], **values: Any
) -> ExecutionSnapshot:
    """Count one more transition of the execution (the live store's freshness stamp), set
    ``values``, and return the snapshot this transaction will commit."""
    row = (
        await conn.execute(
            sa.update(executions)
            .where(executions.c.execution_id == execution_id)
            .values(seq=executions.c.seq + 1, **values)
            .returning(*executions.c)
        )
    ).one()
    return ExecutionSnapshot(execution=execution_from(row), steps=steps)


def replace_steps(steps: list[StepRun], rows: Sequence[sa.Row[Any]]) -> None:
    """Put the rows an ``UPDATE … RETURNING`` gave back in place of the steps read before."""
    for row in rows:
        step = step_from(row)
        steps[step.step_index] = step
