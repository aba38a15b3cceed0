"""Execution and step rows to domain records, and the snapshot reads the areas share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from pagemill.adapters.sql.database import from_db, from_db_opt
from pagemill.adapters.sql.tables import executions, step_runs
from pagemill.domain.models import Execution, ExecutionSnapshot, StepRun
from pagemill.domain.statuses import ExecutionStatus, StepStatus

Row = sa.Row[Any]


def _by_name(row: Row, table: sa.Table, prefix: str) -> Mapping[Any, Any]:
    # A row of a derived query (a CTE, a join with clashing names) is read by label instead.
    m = row._mapping
    return {column: m[prefix + column.name] for column in table.c}


def execution_from(row: Row, prefix: str | None = None) -> Execution:
    """``prefix``: read the columns by their labels (``prefix`` + name) instead."""
    m = row._mapping if prefix is None else _by_name(row, executions, prefix)
    return Execution(
        pk=m[executions.c.id],
        execution_id=m[executions.c.execution_id],
        team_id=m[executions.c.team_id],
        pipeline_id=m[executions.c.pipeline_id],
        pipeline_version=m[executions.c.pipeline_version],
        status=ExecutionStatus(m[executions.c.status]),
        seq=int(m[executions.c.seq]),
        created=from_db(m[executions.c.created]),
        input_key=m[executions.c.input_key],
        config_snapshot=dict(m[executions.c.config_snapshot]),
        input_config=dict(m[executions.c.input_config]),
        started_at=from_db_opt(m[executions.c.started_at]),
        completed_at=from_db_opt(m[executions.c.completed_at]),
        rate_breakdown=m[executions.c.rate_breakdown],
        error_message=m[executions.c.error_message],
        page_count=m[executions.c.page_count],
        traceparent=m[executions.c.traceparent],
        retention_seconds=m[executions.c.retention_seconds],
        expires_at=from_db_opt(m[executions.c.expires_at]),
        purged_at=from_db_opt(m[executions.c.purged_at]),
        parent_execution_id=m[executions.c.parent_execution_id],
    )


def step_from(row: Row, prefix: str | None = None) -> StepRun:
    """``prefix``: read the columns by their labels (``prefix`` + name) instead."""
    m = row._mapping if prefix is None else _by_name(row, step_runs, prefix)
    return StepRun(
        execution_id=m[step_runs.c.execution_id],
        step_index=m[step_runs.c.step_index],
        step_type=m[step_runs.c.step_type],
        status=StepStatus(m[step_runs.c.status]),
        attempt=m[step_runs.c.attempt],
        max_attempts=m[step_runs.c.max_attempts],
        settings=dict(m[step_runs.c.settings]),
        lookup_key=m[step_runs.c.lookup_key],
        available_at=from_db_opt(m[step_runs.c.available_at]),
        lease_owner=m[step_runs.c.lease_owner],
        lease_expires_at=from_db_opt(m[step_runs.c.lease_expires_at]),
        heartbeat_at=from_db_opt(m[step_runs.c.heartbeat_at]),
        started_at=from_db_opt(m[step_runs.c.started_at]),
        finished_at=from_db_opt(m[step_runs.c.finished_at]),
        result_key=m[step_runs.c.result_key],
        checkpoint_id=m[step_runs.c.checkpoint_id],
        error_message=m[step_runs.c.error_message],
        cache=m[step_runs.c.cache],
    )


async def load_steps(
    conn: AsyncConnection, execution_ids: Sequence[str]
) -> dict[str, list[StepRun]]:
    """The steps of each execution, ordered by index."""
    found: dict[str, list[StepRun]] = {e: [] for e in execution_ids}
    if not execution_ids:
        return found
    rows = await conn.execute(
        sa.select(step_runs)
        .where(step_runs.c.execution_id.in_(list(execution_ids)))
        .order_by(step_runs.c.execution_id, step_runs.c.step_index)
    )
    for row in rows:
        step = step_from(row)
        found[step.execution_id].append(step)
    return found


async def load_snapshot(conn: AsyncConnection, execution_id: str) -> ExecutionSnapshot | None:
    row = (
        await conn.execute(sa.select(executions).where(executions.c.execution_id == execution_id))
    ).first()
    if row is None:
        return None
    steps = await load_steps(conn, [execution_id])
    return ExecutionSnapshot(execution=execution_from(row), steps=steps[execution_id])
