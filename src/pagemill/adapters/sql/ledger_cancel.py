"""Cancellation and graceful release: the ledger side.

Cancelling is cooperative: steps that have not started end ``cancelled`` at once; a running step
is flagged and its worker stops at the next heartbeat (or sooner, in the same process), then
ends the attempt through ``fail_step``, which turns a flagged step ``cancelled``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pagemill.adapters.sql.engine import Database, to_db
from pagemill.adapters.sql.ledger_engine import _fenced
from pagemill.adapters.sql.ledger_rows import load_snapshot
from pagemill.adapters.sql.ledger_transitions import (
    commit_transition,
    final_values,
    lock_head,
    read_steps,
)
from pagemill.adapters.sql.ledger_webhooks import record_due_webhooks
from pagemill.adapters.sql.tables import step_runs
from pagemill.domain.models import ExecutionSnapshot, StepRef
from pagemill.domain.statuses import StepStatus

_NOT_STARTED = [StepStatus.PENDING.value, StepStatus.DISPATCHED.value]


class CancelMethods:
    _db: Database

    async def cancel_execution(
        self, execution_id: str, team_id: str, now: datetime, rates: dict[str, int]
    ) -> ExecutionSnapshot | None:
        async with self._db.write() as conn:
            head = await lock_head(conn, execution_id)
            if head is None or head.team_id != team_id:
                return None
            if head.terminal:
                return await load_snapshot(conn, execution_id)  # nothing left to cancel
            ours = step_runs.c.execution_id == execution_id
            await conn.execute(
                sa.update(step_runs)
                .where(ours, step_runs.c.status.in_(_NOT_STARTED))
                .values(status=StepStatus.CANCELLED.value, finished_at=to_db(now))
            )
            running = await conn.execute(
                sa.update(step_runs)
                .where(ours, step_runs.c.status == StepStatus.RUNNING.value)
                .values(cancel_requested=True)
            )
            steps = await read_steps(conn, execution_id)
            final: dict[str, Any] = {}
            if running.rowcount == 0:
                final = final_values(steps, now, rates, head.page_count, "Cancelled.")
            snapshot = await commit_transition(conn, execution_id, steps, **final)
            await record_due_webhooks(conn, snapshot, now)
            return snapshot

    async def release_step(
        self, ref: StepRef, worker: str, now: datetime
    ) -> ExecutionSnapshot | None:
        async with self._db.write() as conn:
            if await lock_head(conn, ref.execution_id) is None:
                return None
            result = await conn.execute(
                sa.update(step_runs)
                .where(_fenced(ref, worker), step_runs.c.cancel_requested.is_(False))
                .values(
                    status=StepStatus.DISPATCHED.value,
                    # A new attempt fences this worker off; it is not charged: a worker that
                    # shuts down cleanly did nothing wrong.
                    attempt=ref.attempt + 1,
                    max_attempts=step_runs.c.max_attempts + 1,
                    available_at=to_db(now),
                    lease_owner=None,
                    lease_expires_at=None,
                )
            )
            if result.rowcount != 1:
                return None
            steps = await read_steps(conn, ref.execution_id)
            snapshot = await commit_transition(conn, ref.execution_id, steps)
            await self._db.dispatched(conn, snapshot)
            return snapshot
