"""Claiming a step: in a transaction (SQLite, and the polling claimer on both dialects), and by
reference on PostgreSQL in one statement in autocommit, one round trip.

In a transaction the execution row is locked first, with the ``UPDATE`` that counts and starts
it; when the step's compare-and-set then fails, ``Undone`` rolls the transaction back.

Queue delivery claims one exact attempt for every step, so this is the hot path of a
Procrastinate worker. As a transaction it costs five round trips (``BEGIN``, the execution's
``UPDATE``, the step's compare-and-set, the steps' read, ``COMMIT``); as data-modifying CTEs of
one ``SELECT`` it costs one, with the same effects and the same lock order:

- ``head`` locks the execution row first. The step's ``UPDATE`` compares its execution id with
  ``head`` (an init plan, evaluated before any step row is touched), so the execution is
  locked before the step, as in every other transition.
- ``claimed`` is the compare-and-set; ``started`` counts and starts the execution only when
  ``claimed`` returned the step, so a stale or duplicate delivery changes nothing.
- The other steps are read in the same statement. They may come from before the wait for the
  lock, but whatever changes them (a cancellation, a failure) also moves the claimed step, and
  then the claim finds nothing.

SQLite has no data-modifying CTEs; it claims in a transaction (``claim_in_transaction``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from pagemill.adapters.sql.database import Database, to_db
from pagemill.adapters.sql.ledger.rows import execution_from, step_from
from pagemill.adapters.sql.ledger.statements import CLAIM_STEP, START_EXECUTION, ref_params
from pagemill.adapters.sql.ledger.transitions import read_steps, timestamp
from pagemill.adapters.sql.tables import executions, step_runs
from pagemill.domain.models import Claim, ExecutionSnapshot, StepRef
from pagemill.domain.statuses import ExecutionStatus, StepStatus

_EXECUTION = "e_"  # the label prefix of the execution's columns in each row


class Undone(Exception):
    """Raised inside a write transaction to roll it back: a compare-and-set that failed after
    an earlier statement of the transaction already wrote."""


def _params(ref: StepRef, worker: str, now: datetime, lease_seconds: float) -> dict[str, Any]:
    return {
        **ref_params(ref),
        "worker": worker,
        "lease_until": to_db(now + timedelta(seconds=lease_seconds)),
        "now": to_db(now),
    }


def _claimed(snapshot: ExecutionSnapshot, ref: StepRef) -> Claim:
    step = snapshot.steps[ref.step_index]
    upstream = snapshot.steps[ref.step_index - 1] if ref.step_index > 0 else None
    return Claim(step=step, execution=snapshot.execution, upstream=upstream, snapshot=snapshot)


async def claim_in_transaction(
    conn: AsyncConnection, ref: StepRef, worker: str, now: datetime, lease_seconds: float
) -> Claim | None:
    """Claim ``ref`` in the write transaction of ``conn``; ``Undone`` when the step is not
    claimable (the execution's count and start must then be rolled back)."""
    # The execution first (the lock order of every transition), counted and started in the
    # statement that locks it; undone below when the step turns out not to be claimable.
    head = (
        await conn.execute(START_EXECUTION, {"e_id": ref.execution_id, "now": to_db(now)})
    ).first()
    if head is None:
        return None
    result = await conn.execute(CLAIM_STEP, _params(ref, worker, now, lease_seconds))
    if result.rowcount != 1:
        raise Undone
    snapshot = ExecutionSnapshot(
        execution=execution_from(head), steps=await read_steps(conn, ref.execution_id)
    )
    return _claimed(snapshot, ref)


def _statement() -> sa.Select[Any]:
    head = (
        sa.select(executions.c.execution_id)
        .where(executions.c.execution_id == sa.bindparam("e_id"))
        .with_for_update()
        .cte("head")
    )
    claimed = (
        sa.update(step_runs)
        .where(
            step_runs.c.execution_id == sa.select(head.c.execution_id).scalar_subquery(),
            step_runs.c.step_index == sa.bindparam("b_index"),
            step_runs.c.attempt == sa.bindparam("b_attempt"),
            step_runs.c.status == StepStatus.DISPATCHED.value,
        )
        .values(
            status=StepStatus.RUNNING.value,
            lease_owner=sa.bindparam("worker"),
            lease_expires_at=timestamp("lease_until"),
            heartbeat_at=timestamp("now"),
            started_at=timestamp("now"),
        )
        .returning(*step_runs.c)
        .cte("claimed")
    )
    claimed_execution = sa.select(claimed.c.execution_id).scalar_subquery()
    started = (
        sa.update(executions)
        .where(executions.c.execution_id == claimed_execution)
        .values(
            seq=executions.c.seq + 1,
            status=sa.case(
                (
                    executions.c.status == ExecutionStatus.PENDING.value,
                    ExecutionStatus.RUNNING.value,
                ),
                else_=executions.c.status,
            ),
            started_at=sa.func.coalesce(executions.c.started_at, timestamp("now")),
        )
        .returning(*executions.c)
        .cte("started")
    )
    others = sa.select(*step_runs.c).where(
        step_runs.c.execution_id == claimed_execution,
        step_runs.c.step_index != sa.bindparam("b_index"),
    )
    steps = sa.union_all(sa.select(*claimed.c), others).subquery("steps")
    return (
        sa.select(*(c.label(_EXECUTION + c.name) for c in started.c), *steps.c)
        .select_from(started.join(steps, sa.true()))
        .order_by(steps.c.step_index)
    )


_CLAIM = _statement()


async def claim_in_one_statement(
    db: Database, ref: StepRef, worker: str, now: datetime, lease_seconds: float
) -> Claim | None:
    rows = await db.autocommit(_CLAIM, _params(ref, worker, now, lease_seconds))
    if not rows:
        return None  # stale, duplicate or cancelled delivery
    snapshot = ExecutionSnapshot(
        execution=execution_from(rows[0], _EXECUTION), steps=[step_from(r, "") for r in rows]
    )
    return _claimed(snapshot, ref)
