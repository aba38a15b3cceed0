"""Operational reads: stuck steps and the counts behind the metrics."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from pagemill.adapters.sql.engine import Database, to_db
from pagemill.adapters.sql.ledger_rows import step_from
from pagemill.adapters.sql.tables import executions, step_runs
from pagemill.domain.models import StuckSteps
from pagemill.domain.statuses import TERMINAL_STEP, StepStatus

_LIMIT = 500


class OperationsMethods:
    _db: Database

    async def stuck_steps(
        self, now: datetime, lease_grace_seconds: float, queued_too_long_seconds: float
    ) -> StuckSteps:
        expired_before = to_db(now - timedelta(seconds=lease_grace_seconds))
        queued_before = to_db(now - timedelta(seconds=queued_too_long_seconds))
        status = step_runs.c.status
        async with self._db.read() as conn:
            expired = await conn.execute(
                sa.select(step_runs)
                .where(status == StepStatus.RUNNING.value)
                .where(step_runs.c.lease_expires_at < expired_before)
                .order_by(step_runs.c.lease_expires_at)
                .limit(_LIMIT)
            )
            starved = await conn.execute(
                sa.select(step_runs)
                .where(status == StepStatus.DISPATCHED.value)
                .where(step_runs.c.available_at < queued_before)
                .order_by(step_runs.c.available_at)
                .limit(_LIMIT)
            )
            retried = await conn.execute(
                sa.select(step_runs)
                .where(step_runs.c.attempt > 1)
                .where(status.not_in([s.value for s in TERMINAL_STEP]))
                .order_by(step_runs.c.execution_id, step_runs.c.step_index)
                .limit(_LIMIT)
            )
            return StuckSteps(
                expired_leases=[step_from(r) for r in expired],
                queued_too_long=[step_from(r) for r in starved],
                retried=[step_from(r) for r in retried],
            )

    async def execution_counts(self) -> dict[str, int]:
        async with self._db.read() as conn:
            rows = await conn.execute(
                sa.select(executions.c.status, sa.func.count()).group_by(executions.c.status)
            )
            return {str(status): int(count) for status, count in rows}

    async def queue_depth(self) -> dict[str, int]:
        async with self._db.read() as conn:
            rows = await conn.execute(
                sa.select(step_runs.c.step_type, sa.func.count())
                .where(step_runs.c.status == StepStatus.DISPATCHED.value)
                .group_by(step_runs.c.step_type)
            )
            return {str(step_type): int(count) for step_type, count in rows}
