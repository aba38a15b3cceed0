"""Retention on SQL: the executions due for purging, purging one, deleting one.

Each is one short transaction over one execution, so a sweeper working through a backlog never
holds locks for long; the blobs are deleted by the caller after the commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from pagemill.adapters.sql.database import Database, to_db
from pagemill.adapters.sql.ledger.transitions import lock_head
from pagemill.adapters.sql.tables import (
    executions,
    idempotency_keys,
    step_cache,
    step_results,
    step_runs,
    webhook_attempts,
    webhook_deliveries,
)
from pagemill.domain.errors import Conflict
from pagemill.ports.ledger.retention import BlobRole, ReleasedBlobs, RetentionLedger

_E, _R, _S = executions, step_runs, step_results


async def _held(conn: AsyncConnection, execution_id: str) -> tuple[set[str], set[str], set[str]]:
    """The input, result and checkpoint blobs the execution's rows name."""
    inputs = {
        key
        for (key,) in await conn.execute(
            sa.select(_E.c.input_key).where(_E.c.execution_id == execution_id)
        )
    }
    results: set[str] = set()
    checkpoints: set[str] = set()
    for table in (_R, _S):
        rows = await conn.execute(
            sa.select(table.c.result_key, table.c.checkpoint_id).where(
                table.c.execution_id == execution_id
            )
        )
        for result_key, checkpoint_id in rows:
            if result_key:
                results.add(result_key)
            if checkpoint_id:
                checkpoints.add(checkpoint_id)
    return inputs, results, checkpoints


def _others(execution_id: str) -> sa.ColumnElement[bool]:
    """Executions other than this one whose blobs still exist."""
    return (_E.c.execution_id != execution_id) & _E.c.purged_at.is_(None)


async def _still_used(
    conn: AsyncConnection, execution_id: str, column: sa.Column[str], keys: Iterable[str]
) -> set[str]:
    """Which of ``keys`` a step (or the input) of another live execution names in ``column``."""
    wanted = sorted(keys)
    if not wanted:
        return set()
    table = column.table
    query = sa.select(column).where(column.in_(wanted), _others(execution_id))
    if table is not _E:
        query = query.select_from(table.join(_E, _E.c.execution_id == table.c.execution_id))
    return {value for (value,) in await conn.execute(query.distinct())}


async def _release(conn: AsyncConnection, execution_id: str, team_id: str) -> ReleasedBlobs:
    inputs, results, checkpoints = await _held(conn, execution_id)
    # Another execution names a blob in its steps (``step_results`` only repeats, for each
    # completed step, what its step row holds) or as its input; each lookup is indexed.
    inputs -= await _still_used(conn, execution_id, _E.c.input_key, inputs)
    results -= await _still_used(conn, execution_id, _R.c.result_key, results)
    checkpoints -= await _still_used(conn, execution_id, _R.c.checkpoint_id, checkpoints)
    # The executor cache must not hand out work whose blobs are about to go.
    await conn.execute(
        sa.delete(step_cache).where(
            (step_cache.c.source_execution_id == execution_id)
            | step_cache.c.result_key.in_(sorted(results))
            | step_cache.c.checkpoint_id.in_(sorted(checkpoints))
        )
    )
    return ReleasedBlobs(
        execution_id, team_id, sorted(inputs), sorted(results), sorted(checkpoints)
    )


class SqlRetentionLedger(RetentionLedger):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def due(self, now: datetime, limit: int) -> list[str]:
        rows = await self._db.fetch(
            sa.select(_E.c.execution_id)
            .where(_E.c.purged_at.is_(None), _E.c.expires_at <= to_db(now))
            .order_by(_E.c.expires_at)
            .limit(limit)
        )
        return [row[0] for row in rows]

    async def purge(self, execution_id: str, now: datetime) -> ReleasedBlobs | None:
        async with self._db.write() as conn:
            head = await lock_head(conn, execution_id)
            if head is None:
                return None
            marked = await conn.execute(
                sa.update(_E)
                .where(
                    _E.c.execution_id == execution_id,
                    _E.c.purged_at.is_(None),
                    _E.c.expires_at <= to_db(now),
                )
                .values(purged_at=to_db(now), seq=_E.c.seq + 1)
            )
            if marked.rowcount != 1:
                return None
            return await _release(conn, execution_id, head.team_id)

    async def referenced(self, role: BlobRole, names: Sequence[str]) -> set[str]:
        wanted = sorted(set(names))
        if not wanted:
            return set()
        live = _E.c.purged_at.is_(None)
        query: sa.Select[str] | sa.CompoundSelect[str]
        if role is BlobRole.INPUT:
            query = sa.select(_E.c.input_key).where(_E.c.input_key.in_(wanted), live)
        else:
            # ``step_results`` only repeats what its step row holds; the executor cache may
            # still name work whose execution is gone (never past a purge: it drops them).
            step_column = _R.c.result_key if role is BlobRole.RESULT else _R.c.checkpoint_id
            cache_column = (
                step_cache.c.result_key if role is BlobRole.RESULT else step_cache.c.checkpoint_id
            )
            query = sa.union(
                sa.select(step_column)
                .select_from(_R.join(_E, _E.c.execution_id == _R.c.execution_id))
                .where(step_column.in_(wanted), live),
                sa.select(cache_column).where(cache_column.in_(wanted)),
            )
        async with self._db.read() as conn:
            return set((await conn.execute(query)).scalars())

    async def delete(self, execution_id: str, team_id: str) -> ReleasedBlobs | None:
        async with self._db.write() as conn:
            head = await lock_head(conn, execution_id)
            if head is None or head.team_id != team_id:
                return None
            if not head.terminal:
                raise Conflict(
                    f"Execution {execution_id} has not finished; cancel it first "
                    f"(POST /api/v1/pipelines/executions/{execution_id}/cancel)."
                )
            purged = (
                await conn.execute(
                    sa.select(_E.c.purged_at).where(_E.c.execution_id == execution_id)
                )
            ).scalar_one()
            released = await _release(conn, execution_id, team_id)
            deliveries = sa.select(webhook_deliveries.c.id).where(
                webhook_deliveries.c.execution_id == execution_id
            )
            await conn.execute(
                sa.delete(webhook_attempts).where(webhook_attempts.c.delivery_pk.in_(deliveries))
            )
            ours = execution_id
            for table in (webhook_deliveries, _S, _R):
                await conn.execute(sa.delete(table).where(table.c.execution_id == ours))
            await conn.execute(
                sa.delete(idempotency_keys).where(idempotency_keys.c.execution_id == ours)
            )
            await conn.execute(sa.delete(_E).where(_E.c.execution_id == ours))
        if purged is not None:  # the sweeper removed its blobs already
            return ReleasedBlobs(execution_id, team_id)
        return released
