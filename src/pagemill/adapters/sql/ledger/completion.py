"""A step's completion, with the execution's head already locked: six statements on SQLite,
three on PostgreSQL.

The shape and the guarantees are those of ``transitions``. SQLite has no data-modifying CTEs
and runs them one by one (``complete_in_transaction``); on PostgreSQL the statements are fewer,
as data-modifying CTEs (``complete_with_ctes``):

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

from pagemill.adapters.sql.database import to_db
from pagemill.adapters.sql.ledger.rows import execution_from, step_from
from pagemill.adapters.sql.ledger.statements import (
    COMPLETE_STEP,
    DISPATCH_STEP,
    RECORD_RESULT,
    REMEMBER,
    ref_params,
)
from pagemill.adapters.sql.ledger.transitions import (
    Head,
    commit_transition,
    completion_values,
    read_steps,
    replace_steps,
    timestamp,
)
from pagemill.adapters.sql.tables import executions, step_cache, step_runs
from pagemill.domain.models import ExecutionSnapshot, StepOutput, StepRef, StepRun
from pagemill.domain.statuses import StepStatus

_CHANGED = "changed"  # 1 on the rows this statement wrote, 0 on the rows it only read


def _remembers(output: StepOutput) -> bool:
    """Whether the completion points the executor cache at this result (not for a hit)."""
    return output.cache_key is not None and (output.cache or {}).get("status") != "hit"


async def complete_in_transaction(
    conn: AsyncConnection,
    head: Head,
    ref: StepRef,
    worker: str,
    now: datetime,
    output: StepOutput,
    rates: dict[str, int],
) -> ExecutionSnapshot | None:
    """The completion statement by statement (SQLite); None when fenced off."""
    result = await conn.execute(
        COMPLETE_STEP,
        {
            **ref_params(ref),
            "worker": worker,
            "now": to_db(now),
            "b_result_key": output.result_key,
            "b_checkpoint_id": output.checkpoint_id,
            "b_cache": output.cache,
        },
    )
    if result.rowcount != 1:
        # Lost the lease: nothing was written, so ending the transaction discards nothing.
        return None
    steps = await read_steps(conn, ref.execution_id)
    following = ref.step_index + 1
    dispatched = False
    if following < len(steps) and steps[following].status is StepStatus.PENDING:
        rows = (
            await conn.execute(
                DISPATCH_STEP, {"e_id": ref.execution_id, "b_index": following, "now": to_db(now)}
            )
        ).all()
        replace_steps(steps, rows)
        dispatched = bool(rows)
    if _remembers(output):
        await _remember(conn, head.team_id, ref, output, now)
    await conn.execute(
        RECORD_RESULT,
        {
            **ref_params(ref),
            "b_result_key": output.result_key,
            "b_checkpoint_id": output.checkpoint_id,
            "b_page_count": output.page_count,
            "b_created": to_db(now),
        },
    )
    values = completion_values(
        head, steps, page_count=output.page_count, dispatched=dispatched, now=now, rates=rates
    )
    return await commit_transition(conn, ref.execution_id, steps, **values)


async def _remember(
    conn: AsyncConnection, team_id: str, ref: StepRef, output: StepOutput, now: datetime
) -> None:
    """Point the cache key at this result (the newest identical work wins)."""
    await conn.execute(
        REMEMBER[conn.dialect.name],
        {
            "team_id": team_id,
            "cache_key": output.cache_key,
            "result_key": output.result_key,
            "checkpoint_id": output.checkpoint_id,
            "page_count": output.page_count,
            "source_execution_id": ref.execution_id,
            "source_step_index": ref.step_index,
            "created": to_db(now),
        },
    )


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
    """Statements 2 and 3 above (PostgreSQL); None when fenced off."""
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
    remember = _remembers(output)
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
