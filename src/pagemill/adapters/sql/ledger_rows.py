"""Rows to domain records, and the snapshot reads shared by the ledger's modules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from pagemill.adapters.sql.engine import from_db, from_db_opt
from pagemill.adapters.sql.tables import (
    api_keys,
    executions,
    pipeline_versions,
    pipelines,
    step_runs,
    teams,
)
from pagemill.domain.models import (
    ApiKey,
    Execution,
    ExecutionSnapshot,
    Pipeline,
    PipelineVersion,
    StepRun,
    Team,
)
from pagemill.domain.statuses import ExecutionStatus, StepStatus

Row = sa.Row[Any]


def team_from(row: Row) -> Team:
    m = row._mapping
    return Team(id=m[teams.c.id], name=m[teams.c.name], created=from_db(m[teams.c.created]))


def api_key_from(row: Row) -> ApiKey:
    m = row._mapping
    return ApiKey(
        id=m[api_keys.c.id],
        team_id=m[api_keys.c.team_id],
        name=m[api_keys.c.name],
        key_hash=m[api_keys.c.key_hash],
        created=from_db(m[api_keys.c.created]),
        last_used_at=from_db_opt(m[api_keys.c.last_used_at]),
        expires_at=from_db_opt(m[api_keys.c.expires_at]),
        revoked_at=from_db_opt(m[api_keys.c.revoked_at]),
        prefix=m[api_keys.c.prefix],
        created_by=m[api_keys.c.created_by],
    )


def pipeline_from(row: Row) -> Pipeline:
    m = row._mapping
    return Pipeline(
        pk=m[pipelines.c.id],
        pipeline_id=m[pipelines.c.pipeline_id],
        team_id=m[pipelines.c.team_id],
        name=m[pipelines.c.name],
        steps=list(m[pipelines.c.steps]),
        is_saved=bool(m[pipelines.c.is_saved]),
        archived=bool(m[pipelines.c.archived]),
        active_version=m[pipelines.c.active_version],
        created=from_db(m[pipelines.c.created]),
        updated=from_db(m[pipelines.c.updated]),
    )


def version_from(row: Row) -> PipelineVersion:
    m = row._mapping
    return PipelineVersion(
        pk=m[pipeline_versions.c.id],
        pipeline_pk=m[pipeline_versions.c.pipeline_pk],
        version=m[pipeline_versions.c.version],
        steps=list(m[pipeline_versions.c.steps]),
        description=m[pipeline_versions.c.description],
        created=from_db(m[pipeline_versions.c.created]),
    )


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
