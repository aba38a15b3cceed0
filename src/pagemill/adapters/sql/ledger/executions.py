"""The execution ledger on SQL: creation, the reads of the poll path, listing, cancellation,
and the counts behind admission control and metrics.

Cancelling is cooperative: steps that have not started end ``cancelled`` at once; a running step
is flagged and its worker stops at the next heartbeat (or sooner, in the same process), then
ends the attempt through the step ledger's ``fail``, which turns a flagged step ``cancelled``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from pagemill.adapters.sql.database import Database, to_db
from pagemill.adapters.sql.ledger.idempotency import claim_key
from pagemill.adapters.sql.ledger.listing import newest_first
from pagemill.adapters.sql.ledger.rows import (
    execution_from,
    load_snapshot,
    load_steps,
    step_from,
)
from pagemill.adapters.sql.ledger.transitions import (
    commit_transition,
    final_values,
    lock_head,
    read_steps,
)
from pagemill.adapters.sql.ledger.webhooks import record_due_webhooks
from pagemill.adapters.sql.tables import executions, step_results, step_runs
from pagemill.domain.ids import LOOKUP_PREFIX, new_id
from pagemill.domain.models import (
    Execution,
    ExecutionHead,
    ExecutionSnapshot,
    NewExecution,
    StepRun,
)
from pagemill.domain.statuses import TERMINAL_EXECUTION, ExecutionStatus, StepStatus
from pagemill.ports.ledger.executions import ExecutionCursor, ExecutionLedger

# Prebuilt: these reads are on the poll path, where building a statement costs more than
# running it.
_EXECUTION = sa.select(executions).where(executions.c.execution_id == sa.bindparam("execution_id"))
_TEAM_EXECUTION = _EXECUTION.where(executions.c.team_id == sa.bindparam("team_id"))
_TEAM_EXECUTION_HEAD = sa.select(executions.c.status, executions.c.seq).where(
    executions.c.execution_id == sa.bindparam("execution_id"),
    executions.c.team_id == sa.bindparam("team_id"),
)
_STEPS = (
    sa.select(step_runs)
    .where(step_runs.c.execution_id == sa.bindparam("execution_id"))
    .order_by(step_runs.c.step_index)
)
# Every poll of a single-shot request starts here (the lookup key is unique).
_BY_LOOKUP_KEY = (
    sa.select(step_runs.c.execution_id, step_runs.c.step_index)
    .join(executions, executions.c.execution_id == step_runs.c.execution_id)
    .where(
        step_runs.c.lookup_key == sa.bindparam("lookup_key"),
        executions.c.team_id == sa.bindparam("team_id"),
    )
)
_CHECKPOINT_OWNED = (
    sa.select(step_runs.c.execution_id)
    .join(executions, executions.c.execution_id == step_runs.c.execution_id)
    .where(
        step_runs.c.checkpoint_id == sa.bindparam("checkpoint_id"),
        executions.c.team_id == sa.bindparam("team_id"),
    )
    .limit(1)
)
# Prebuilt as well: every run inserts with these, and building an INSERT with its values inline
# (and its cache key) costs more than sending it.
_INSERT_EXECUTION = sa.insert(executions).returning(executions)
_INSERT_STEPS = sa.insert(step_runs).returning(step_runs, sort_by_parameter_order=True)

# The key of ``executions.input_config`` that holds the page count admission control counted.
PAGE_COUNT_KEY = "page_count_at_submit"
_IN_FLIGHT = [s.value for s in ExecutionStatus if s not in TERMINAL_EXECUTION]
_PAGES_IN_FLIGHT = sa.select(
    sa.func.coalesce(sa.func.sum(executions.c.input_config[PAGE_COUNT_KEY].as_integer()), 0)
).where(
    executions.c.team_id == sa.bindparam("team_id"),
    executions.c.status.in_(_IN_FLIGHT),
)


def _literal(text: str) -> sa.ColumnElement[Any]:
    return sa.literal_column(f"'{text}'")


# The same sum for PostgreSQL's plain reader (every constant inline: it compiles the statement
# once and binds only ``team_id``); it returns one integer, which needs no SQLAlchemy types.
_PAGES_IN_FLIGHT_PLAIN = sa.select(
    sa.func.coalesce(
        sa.func.sum(
            sa.cast(executions.c.input_config.op("->>")(_literal(PAGE_COUNT_KEY)), sa.Integer)
        ),
        sa.literal_column("0"),
    )
).where(
    executions.c.team_id == sa.bindparam("team_id"),
    executions.c.status.in_([_literal(status) for status in _IN_FLIGHT]),
)
_NOT_STARTED = [StepStatus.PENDING.value, StepStatus.DISPATCHED.value]


async def _record_reused(conn: AsyncConnection, new: NewExecution, at: datetime) -> list[StepRun]:
    """Make a rerun's first steps completed with its parent's outputs, each with its result
    recorded (one per completed step, as a run would), and say where they came from."""
    steps: list[StepRun] = []
    for index, reused in enumerate(new.reused):
        ours = (step_runs.c.execution_id == new.execution_id) & (step_runs.c.step_index == index)
        row = (
            await conn.execute(
                sa.update(step_runs)
                .where(ours)
                .values(
                    status=StepStatus.COMPLETED.value,
                    attempt=1,
                    started_at=at,
                    finished_at=at,
                    result_key=reused.result_key,
                    checkpoint_id=reused.checkpoint_id,
                    cache=reused.outcome,
                )
                .returning(step_runs)
            )
        ).one()
        steps.append(step_from(row))
    await conn.execute(
        sa.insert(step_results),
        [
            {
                "execution_id": new.execution_id,
                "step_index": index,
                "attempt": 1,
                "result_key": reused.result_key,
                "checkpoint_id": reused.checkpoint_id,
                "page_count": reused.page_count,
                "created": at,
            }
            for index, reused in enumerate(new.reused)
        ],
    )
    return steps


class SqlExecutionLedger(ExecutionLedger):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, new: NewExecution, now: datetime) -> ExecutionSnapshot:
        if not new.step_types:
            raise ValueError("An execution needs at least one step")
        if len(new.step_types) != len(new.step_settings):
            raise ValueError("step_types and step_settings must have the same length")
        at = to_db(now)
        first = len(new.reused)  # the first step to run: after the steps a rerun reuses
        if first >= len(new.step_types):
            raise ValueError("A rerun must run at least one step")
        async with self._db.write() as conn:
            if new.idempotency is not None:
                earlier = await claim_key(
                    conn, self._db.is_sqlite, new.team_id, new.execution_id, new.idempotency, now
                )
                if earlier is not None:
                    return earlier
            # RETURNING gives the snapshot the caller mirrors without reading it back.
            execution_row = (
                await conn.execute(
                    _INSERT_EXECUTION,
                    {
                        "execution_id": new.execution_id,
                        "team_id": new.team_id,
                        "pipeline_id": new.pipeline_id,
                        "pipeline_version": new.pipeline_version,
                        "status": ExecutionStatus.PENDING.value,
                        "seq": 1,
                        "created": at,
                        "input_key": new.input_key,
                        "config_snapshot": new.config_snapshot,
                        "input_config": new.input_config,
                        "traceparent": new.traceparent,
                        "retention_seconds": new.retention_seconds,
                        "parent_execution_id": new.parent_execution_id,
                        "page_count": new.page_count,
                    },
                )
            ).one()
            step_rows = await conn.execute(
                _INSERT_STEPS,
                [
                    {
                        "execution_id": new.execution_id,
                        "step_index": index,
                        "step_type": step_type,
                        # The first step is dispatched in this very transaction: no window in
                        # which the execution exists with nothing to run.
                        "status": (
                            StepStatus.DISPATCHED if index == first else StepStatus.PENDING
                        ).value,
                        "attempt": 1 if index == first else 0,
                        "max_attempts": new.max_attempts,
                        "settings": settings,
                        "lookup_key": new_id(LOOKUP_PREFIX),
                        "available_at": at if index == first else None,
                    }
                    for index, (step_type, settings) in enumerate(
                        zip(new.step_types, new.step_settings, strict=True)
                    )
                ],
            )
            steps = [step_from(r) for r in step_rows]
            if new.reused:
                steps[:first] = await _record_reused(conn, new, at)
            snapshot = ExecutionSnapshot(execution=execution_from(execution_row), steps=steps)
            await self._db.dispatched(conn, snapshot)
        return snapshot

    async def get(self, execution_id: str, team_id: str | None = None) -> Execution | None:
        if team_id is None:
            rows = await self._db.point_read(_EXECUTION, {"execution_id": execution_id})
        else:
            rows = await self._db.point_read(
                _TEAM_EXECUTION, {"execution_id": execution_id, "team_id": team_id}
            )
        return execution_from(rows[0]) if rows else None

    async def head(self, execution_id: str, team_id: str) -> ExecutionHead | None:
        # Every GET of an execution starts here: the cheapest read there is (text, integer).
        rows = await self._db.point_read_plain(
            _TEAM_EXECUTION_HEAD, {"execution_id": execution_id, "team_id": team_id}
        )
        if not rows:
            return None
        status, seq = rows[0]
        return ExecutionHead(status=ExecutionStatus(status), seq=int(seq))

    async def steps(self, execution_id: str) -> list[StepRun]:
        rows = await self._db.point_read(_STEPS, {"execution_id": execution_id})
        return [step_from(row) for row in rows]

    async def page(
        self, team_id: str, pipeline_id: str, *, limit: int, offset: int
    ) -> tuple[list[ExecutionSnapshot], int]:
        where = [executions.c.team_id == team_id, executions.c.pipeline_id == pipeline_id]
        async with self._db.read() as conn:
            rows, total = await newest_first(
                conn, where, executions.c.created, limit=limit, offset=offset
            )
            found = [execution_from(row) for row in rows]
            steps = await load_steps(conn, [e.execution_id for e in found])
        items = [ExecutionSnapshot(execution=e, steps=steps[e.execution_id]) for e in found]
        return items, total

    async def recent(
        self,
        team_id: str,
        *,
        pipeline_id: str | None = None,
        status: ExecutionStatus | None = None,
        before: ExecutionCursor | None = None,
        limit: int,
    ) -> list[ExecutionSnapshot]:
        e = executions.c
        where: list[sa.ColumnElement[bool]] = [e.team_id == team_id]
        if pipeline_id is not None:
            where.append(e.pipeline_id == pipeline_id)
        if status is not None:
            where.append(e.status == status.value)
        if before is not None:
            # Keyset pagination: a page costs the same however deep it is.
            created = to_db(before.created)
            where.append(
                (e.created < created)
                | ((e.created == created) & (e.execution_id < before.execution_id))
            )
        query = (
            sa.select(executions)
            .where(*where)
            .order_by(e.created.desc(), e.execution_id.desc())
            .limit(limit)
        )
        async with self._db.read() as conn:
            found = [execution_from(row) for row in await conn.execute(query)]
            steps = await load_steps(conn, [x.execution_id for x in found])
        return [ExecutionSnapshot(execution=x, steps=steps[x.execution_id]) for x in found]

    async def by_lookup_key(self, lookup_key: str, team_id: str) -> tuple[str, int] | None:
        rows = await self._db.point_read_plain(
            _BY_LOOKUP_KEY, {"lookup_key": lookup_key, "team_id": team_id}
        )
        if not rows:
            return None
        execution_id, step_index = rows[0]
        return str(execution_id), int(step_index)

    async def checkpoint_owned(self, checkpoint_id: str, team_id: str) -> bool:
        rows = await self._db.point_read(
            _CHECKPOINT_OWNED, {"checkpoint_id": checkpoint_id, "team_id": team_id}
        )
        return bool(rows)

    async def count_results(self, execution_id: str, step_index: int) -> int:
        async with self._db.read() as conn:
            count = (
                await conn.execute(
                    sa.select(sa.func.count())
                    .select_from(step_results)
                    .where(
                        step_results.c.execution_id == execution_id,
                        step_results.c.step_index == step_index,
                    )
                )
            ).scalar_one()
        return int(count)

    async def cancel(
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
                final = final_values(
                    steps, now, rates, head.page_count, "Cancelled.", head.retention_seconds
                )
            snapshot = await commit_transition(conn, execution_id, steps, **final)
            await record_due_webhooks(conn, snapshot, now)
            return snapshot

    async def pages_in_flight(self, team_id: str) -> int:
        # One statement: an autocommit read on PostgreSQL (checked at every submit), without
        # SQLAlchemy's pool and result machinery there (a fifth of the cost).
        if self._db.is_sqlite:
            [row] = await self._db.point_read(_PAGES_IN_FLIGHT, {"team_id": team_id})
            return int(row[0])
        [plain] = await self._db.point_read_plain(_PAGES_IN_FLIGHT_PLAIN, {"team_id": team_id})
        return int(plain[0])

    async def counts(self) -> dict[str, int]:
        async with self._db.read() as conn:
            rows = await conn.execute(
                sa.select(executions.c.status, sa.func.count()).group_by(executions.c.status)
            )
            return {str(status): int(count) for status, count in rows}
