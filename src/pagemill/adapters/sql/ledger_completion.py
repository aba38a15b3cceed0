"""A step's completion on PostgreSQL in three statements inside the transaction, not six.

The shape and the guarantees are those of ``ledger_transitions``; only the statements are
fewer, as data-modifying CTEs (SQLite has none and completes in ``EngineMethods``):

1. Lock the execution's head row (``lock_head``), as every transition of the execution does
   first. Each later statement takes its snapshot after the lock is held, so a cancellation or
   failure committed while this transaction waited is seen.
2. ``finished`` is the fenced compare-and-set of this attempt; ``dispatched`` moves the next
   step to the queue only when ``finished`` returned the step; the other steps are read in the
   same statement. No ``finished`` row: the attempt was fenced off and nothing was written.
3. ``recorded`` (the result row) and ``remembered`` (the cache entry, when there is one) run as
   CTEs of the execution's ``UPDATE``, which counts the transition, finalizes the execution
   when no step was dispatched and it is not terminal yet (decided under the lock), and
   returns the row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from pagemill.adapters.sql.engine import to_db
from pagemill.adapters.sql.ledger_rows import execution_from, step_from
from pagemill.adapters.sql.ledger_statements import COMPLETE_STEP, RECORD_RESULT, ref_params
from pagemill.adapters.sql.ledger_transitions import Head, completion_values, timestamp
from pagemill.adapters.sql.tables import executions, step_cache, step_runs
from pagemill.domain.models import ExecutionSnapshot, StepOutput, StepRef, StepRun
from pagemill.domain.statuses import StepStatus

_CHANGED = "changed"  # 1 on the rows this statement wrote, 0 on the rows it only read


def _finish_statement() -> sa.Select[Any]:
    finished = COMPLETE_STEP.returning(*step_runs.c).cte("finished")
    dispatched = (
        sa.update(step_runs)
        .where(
            step_runs.c.execution_id == sa.bindparam("e_id"),
            step_runs.c.step_index == sa.bindparam("b_next"),
            step_runs.c.status == StepStatus.PENDING.value,
            sa.exists(sa.select(finished.c.step_index)),
        )
        .values(status=StepStatus.DISPATCHED.value, attempt=1, available_at=timestamp("now"))
        .returning(*step_runs.c)
        .cte("dispatched")
    )
    others = sa.select(*step_runs.c, sa.literal(0).label(_CHANGED)).where(
        step_runs.c.execution_id == sa.bindparam("e_id"),
        step_runs.c.step_index != sa.bindparam("b_index"),
    )
    return sa.select(
        sa.union_all(
            sa.select(*finished.c, sa.literal(1).label(_CHANGED)),
            sa.select(*dispatched.c, sa.literal(1).label(_CHANGED)),
            others,
        ).subquery("steps")
    )


_FINISH = _finish_statement()
_CACHE_COLUMNS = (
    "team_id",
    "cache_key",
    "result_key",
    "checkpoint_id",
    "page_count",
    "source_execution_id",
    "source_step_index",
    "created",
)


def _remember_cte() -> Any:
    # Bind names apart from the columns': the execution's UPDATE sets columns of the same names.
    statement = postgresql.insert(step_cache).values(
        {name: sa.bindparam(f"c_{name}", type_=step_cache.c[name].type) for name in _CACHE_COLUMNS}
    )
    return statement.on_conflict_do_update(
        index_elements=[step_cache.c.team_id, step_cache.c.cache_key],
        set_={name: statement.excluded[name] for name in _CACHE_COLUMNS[2:]},
    ).cte("remembered")


_RECORDED = RECORD_RESULT.cte("recorded")
_REMEMBERED = _remember_cte()
# By (remember, the execution's columns set): a handful of shapes, each built once.
_COMMITS: dict[tuple[bool, tuple[str, ...]], sa.Update] = {}


def _commit_statement(remember: bool, columns: tuple[str, ...]) -> sa.Update:
    statement = _COMMITS.get((remember, columns))
    if statement is None:
        statement = (
            sa.update(executions)
            .where(executions.c.execution_id == sa.bindparam("e_id"))
            .values(
                seq=executions.c.seq + 1,
                **{
                    name: sa.bindparam(f"x_{name}", type_=executions.c[name].type)
                    for name in columns
                },
            )
            .returning(*executions.c)
            .add_cte(_RECORDED)
        )
        if remember:
            statement = statement.add_cte(_REMEMBERED)
        _COMMITS[(remember, columns)] = statement
    return statement


async def complete_with_ctes(
    conn: AsyncConnection,
    head: Head,
    ref: StepRef,
    worker: str,
    now: datetime,
    output: StepOutput,
    rates: dict[str, int],
) -> ExecutionSnapshot | None:
    """Statements 2 and 3 above, with the head already locked; None when fenced off."""
    at = to_db(now)
    rows = (
        await conn.execute(
            _FINISH,
            {
                **ref_params(ref),
                "b_next": ref.step_index + 1,
                "worker": worker,
                "now": at,
                "b_result_key": output.result_key,
                "b_checkpoint_id": output.checkpoint_id,
                "b_cache": output.cache,
            },
        )
    ).all()
    by_index: dict[int, StepRun] = {}
    finished = False
    for row in sorted(rows, key=lambda r: r._mapping[_CHANGED]):  # written rows win
        step = step_from(row, "")
        by_index[step.step_index] = step
        finished = finished or step.step_index == ref.step_index
    if not finished:
        # Lost the lease: nothing was written, so ending the transaction discards nothing.
        return None
    steps = [by_index[index] for index in sorted(by_index)]
    dispatched = any(
        row._mapping[_CHANGED] and row._mapping["step_index"] != ref.step_index for row in rows
    )
    values = completion_values(
        head, steps, page_count=output.page_count, dispatched=dispatched, now=now, rates=rates
    )
    remember = output.cache_key is not None and (output.cache or {}).get("status") != "hit"
    params: dict[str, Any] = {
        **ref_params(ref),
        "b_result_key": output.result_key,
        "b_checkpoint_id": output.checkpoint_id,
        "b_page_count": output.page_count,
        "b_created": at,
        **{f"x_{name}": value for name, value in values.items()},
    }
    if remember:
        params |= {
            "c_team_id": head.team_id,
            "c_cache_key": output.cache_key,
            "c_result_key": output.result_key,
            "c_checkpoint_id": output.checkpoint_id,
            "c_page_count": output.page_count,
            "c_source_execution_id": ref.execution_id,
            "c_source_step_index": ref.step_index,
            "c_created": at,
        }
    statement = _commit_statement(remember, tuple(sorted(values)))
    row = (await conn.execute(statement, params)).one()
    return ExecutionSnapshot(execution=execution_from(row), steps=steps)
