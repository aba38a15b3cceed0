"""The statements of a claim and a completion, prebuilt with bind parameters.

They run for every step, and building a SQLAlchemy statement (and its cache key) costs more
than running it. Bind parameters are named unlike the columns they set (``b_…``): SQLAlchemy
reserves a column's name for the values of an ``UPDATE``/``INSERT``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from pagemill.adapters.sql.ledger.transitions import timestamp
from pagemill.adapters.sql.tables import executions, step_cache, step_results, step_runs
from pagemill.domain.models import StepRef
from pagemill.domain.statuses import ExecutionStatus, StepStatus

_PENDING = StepStatus.PENDING.value
_DISPATCHED = StepStatus.DISPATCHED.value
_RUNNING = StepStatus.RUNNING.value


def ref_params(ref: StepRef) -> dict[str, Any]:
    return {"e_id": ref.execution_id, "b_index": ref.step_index, "b_attempt": ref.attempt}


def _this_attempt() -> sa.ColumnElement[bool]:
    return sa.and_(
        step_runs.c.execution_id == sa.bindparam("e_id"),
        step_runs.c.step_index == sa.bindparam("b_index"),
        step_runs.c.attempt == sa.bindparam("b_attempt"),
    )


START_EXECUTION = (
    sa.update(executions)
    .where(executions.c.execution_id == sa.bindparam("e_id"))
    .values(
        seq=executions.c.seq + 1,
        status=sa.case(
            (executions.c.status == ExecutionStatus.PENDING.value, ExecutionStatus.RUNNING.value),
            else_=executions.c.status,
        ),
        started_at=sa.func.coalesce(executions.c.started_at, timestamp("now")),
    )
    .returning(*executions.c)
)
CLAIM_STEP = (
    sa.update(step_runs)
    .where(_this_attempt(), step_runs.c.status == _DISPATCHED)
    .values(
        status=_RUNNING,
        lease_owner=sa.bindparam("worker"),
        lease_expires_at=timestamp("lease_until"),
        heartbeat_at=timestamp("now"),
        started_at=timestamp("now"),
    )
)
COMPLETE_STEP = (
    sa.update(step_runs)
    .where(
        _this_attempt(),
        step_runs.c.lease_owner == sa.bindparam("worker"),
        step_runs.c.status == _RUNNING,
    )
    .values(
        status=StepStatus.COMPLETED.value,
        finished_at=timestamp("now"),
        result_key=sa.bindparam("b_result_key"),
        checkpoint_id=sa.bindparam("b_checkpoint_id"),
        lease_owner=None,
        lease_expires_at=None,
        # A message left by an earlier, retried attempt no longer describes the step.
        error_message=None,
        cache=sa.bindparam("b_cache", type_=step_runs.c.cache.type),
    )
)
DISPATCH_STEP = (
    sa.update(step_runs)
    .where(
        step_runs.c.execution_id == sa.bindparam("e_id"),
        step_runs.c.step_index == sa.bindparam("b_index"),
        step_runs.c.status == _PENDING,
    )
    .values(status=_DISPATCHED, attempt=1, available_at=timestamp("now"))
    .returning(*step_runs.c)
)
RECORD_RESULT = sa.insert(step_results).values(
    execution_id=sa.bindparam("e_id"),
    step_index=sa.bindparam("b_index"),
    attempt=sa.bindparam("b_attempt"),
    result_key=sa.bindparam("b_result_key"),
    checkpoint_id=sa.bindparam("b_checkpoint_id"),
    page_count=sa.bindparam("b_page_count"),
    created=timestamp("b_created"),
)
CACHED = sa.select(step_cache).where(
    step_cache.c.team_id == sa.bindparam("team_id"),
    step_cache.c.cache_key == sa.bindparam("cache_key"),
)


def _upsert(insert: Any) -> Any:
    statement = insert(step_cache)
    return statement.on_conflict_do_update(
        index_elements=[step_cache.c.team_id, step_cache.c.cache_key],
        set_={
            name: statement.excluded[name]
            for name in (
                "result_key",
                "checkpoint_id",
                "page_count",
                "source_execution_id",
                "source_step_index",
                "created",
            )
        },
    )


# Both dialects have ``INSERT … ON CONFLICT DO UPDATE``; SQLAlchemy builds it per dialect.
REMEMBER = {"postgresql": _upsert(postgresql.insert), "sqlite": _upsert(sqlite.insert)}
