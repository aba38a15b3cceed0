"""The batch-run ledger on SQL: runs, their items, and the admitter's compare-and-sets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from pagemill.adapters.sql.database import Database, from_db, from_db_opt, to_db
from pagemill.adapters.sql.ledger.listing import newest_first
from pagemill.adapters.sql.tables import (
    batch_run_files,
    batch_runs,
    collection_files,
    collections,
    executions,
    files,
)
from pagemill.domain.batches import (
    BatchCounts,
    BatchItem,
    BatchRun,
    BatchStatus,
    ItemOutcome,
    ItemStatus,
    NewBatchRun,
    final_batch_status,
)
from pagemill.domain.files import FileStatus
from pagemill.domain.ids import new_public_number
from pagemill.domain.statuses import TERMINAL_EXECUTION, ExecutionStatus
from pagemill.ports.ledger.batches import BatchRunLedger

_R = batch_runs
_I = batch_run_files
_OPEN_ITEM = (ItemStatus.PENDING.value, ItemStatus.RUNNING.value)
_TERMINAL = [s.value for s in TERMINAL_EXECUTION]
_FILTERS = {
    "collection_id": _R.c.collection_id,
    "eval_rubric_id": _R.c.eval_rubric_id,
    "pipeline_id": _R.c.pipeline_id,
}


def _status_or_none(value: str | None) -> ExecutionStatus | None:
    return None if value is None else ExecutionStatus(value)


def _item_from(row: sa.Row[Any]) -> BatchItem:
    m = row._mapping
    return BatchItem(
        run_id=m[_I.c.run_id],
        position=m[_I.c.position],
        file_id=m[_I.c.file_id],
        filename=m[_I.c.filename],
        status=ItemStatus(m[_I.c.status]),
        execution_id=m[_I.c.execution_id],
        eval_score=m[_I.c.eval_score],
        eval_results=m[_I.c.eval_results],
        error_message=m[_I.c.error_message],
        created=from_db(m[_I.c.created]),
        finished_at=from_db_opt(m[_I.c.finished_at]),
    )


def _run_from(row: sa.Row[Any], counts: BatchCounts, avg: float | None) -> BatchRun:
    m = row._mapping
    return BatchRun(
        run_id=m[_R.c.id],
        team_id=m[_R.c.team_id],
        collection_id=m[_R.c.collection_id],
        pipeline_id=m[_R.c.pipeline_id],
        pipeline_version=m[_R.c.pipeline_version],
        eval_rubric_id=m[_R.c.eval_rubric_id],
        options=dict(m[_R.c.options]),
        status=BatchStatus(m[_R.c.status]),
        total_files=m[_R.c.total_files],
        counts=counts,
        avg_score=None if avg is None else round(avg, 4),
        created=from_db(m[_R.c.created]),
        started_at=from_db_opt(m[_R.c.started_at]),
        completed_at=from_db_opt(m[_R.c.completed_at]),
        cancel_requested=bool(m[_R.c.cancel_requested]),
    )


async def _tallies(
    conn: AsyncConnection, run_ids: Sequence[int]
) -> dict[int, tuple[BatchCounts, float | None]]:
    """Counts by status and the average score of each run: one grouped read over the index."""
    rows = await conn.execute(
        sa.select(
            _I.c.run_id,
            _I.c.status,
            sa.func.count(),
            sa.func.sum(_I.c.eval_score),
            sa.func.count(_I.c.eval_score),
        )
        .where(_I.c.run_id.in_(run_ids))
        .group_by(_I.c.run_id, _I.c.status)
    )
    by_run: dict[int, dict[str, int]] = {i: {} for i in run_ids}
    scores: dict[int, tuple[float, int]] = dict.fromkeys(run_ids, (0.0, 0))
    for run_id, status, count, score_sum, scored in rows:
        by_run[run_id][status] = int(count)
        total, n = scores[run_id]
        scores[run_id] = (total + float(score_sum or 0.0), n + int(scored))
    return {
        i: (BatchCounts.of(by_run[i]), scores[i][0] / scores[i][1] if scores[i][1] else None)
        for i in run_ids
    }


async def _runs(conn: AsyncConnection, rows: Sequence[sa.Row[Any]]) -> list[BatchRun]:
    tallies = await _tallies(conn, [r._mapping[_R.c.id] for r in rows])
    return [_run_from(r, *tallies[r._mapping[_R.c.id]]) for r in rows]


class SqlBatchRunLedger(BatchRunLedger):
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- the API ---------------------------------------------------------------------------
    async def create(self, new: NewBatchRun, now: datetime) -> BatchRun | None:
        run_id = new_public_number()
        stamp = to_db(now)
        async with self._db.write() as conn:
            owned = await conn.execute(
                sa.select(collections.c.id).where(
                    collections.c.id == new.collection_id, collections.c.team_id == new.team_id
                )
            )
            if owned.first() is None:
                return None
            await conn.execute(
                sa.insert(_R).values(
                    id=run_id,
                    team_id=new.team_id,
                    collection_id=new.collection_id,
                    pipeline_id=new.pipeline_id,
                    pipeline_version=new.pipeline_version,
                    eval_rubric_id=new.eval_rubric_id,
                    options=new.options,
                    status=BatchStatus.PENDING.value,
                    cancel_requested=False,
                    total_files=0,
                    created=stamp,
                )
            )
            # The items are made in the database: a collection of any size costs no memory.
            position = sa.func.row_number().over(
                order_by=(collection_files.c.position, collection_files.c.file_id)
            )
            source = (
                sa.select(
                    sa.literal(run_id, _I.c.run_id.type),
                    position,
                    files.c.id,
                    files.c.original_filename,
                    sa.literal(ItemStatus.PENDING.value, _I.c.status.type),
                    sa.literal(stamp, _I.c.created.type),
                )
                .select_from(collection_files.join(files, files.c.id == collection_files.c.file_id))
                .where(
                    collection_files.c.collection_id == new.collection_id,
                    files.c.team_id == new.team_id,
                    files.c.upload_status == FileStatus.COMPLETED.value,
                )
            )
            columns = ["run_id", "position", "file_id", "filename", "status", "created"]
            await conn.execute(sa.insert(_I).from_select(columns, source))
            # Counted, not the insert's rowcount: asyncpg does not report it for INSERT … SELECT.
            counted = sa.select(sa.func.count()).select_from(_I).where(_I.c.run_id == run_id)
            total = int((await conn.execute(counted)).scalar_one())
            await conn.execute(sa.update(_R).where(_R.c.id == run_id).values(total_files=total))
            row = (await conn.execute(sa.select(_R).where(_R.c.id == run_id))).one()
            return (await _runs(conn, [row]))[0]

    async def get(self, run_id: int, team_id: str | None) -> BatchRun | None:
        where = _R.c.id == run_id
        if team_id is not None:
            where = where & (_R.c.team_id == team_id)
        async with self._db.read() as conn:
            row = (await conn.execute(sa.select(_R).where(where))).first()
            return None if row is None else (await _runs(conn, [row]))[0]

    async def page(
        self, team_id: str, filters: dict[str, Any], *, limit: int, offset: int
    ) -> tuple[list[BatchRun], int]:
        where = [_R.c.team_id == team_id]
        where += [_FILTERS[k] == v for k, v in filters.items() if v is not None]
        async with self._db.read() as conn:
            rows, total = await newest_first(conn, where, _R.c.created, limit=limit, offset=offset)
            return await _runs(conn, rows), total

    async def items(
        self, run_id: int, team_id: str, *, limit: int, offset: int
    ) -> tuple[list[BatchItem], int] | None:
        async with self._db.read() as conn:
            row = await conn.execute(
                sa.select(_R.c.total_files).where(_R.c.id == run_id, _R.c.team_id == team_id)
            )
            total = row.scalar_one_or_none()
            if total is None:
                return None
            rows = await conn.execute(
                sa.select(_I)
                .where(_I.c.run_id == run_id)
                .order_by(_I.c.position)
                .limit(limit)
                .offset(offset)
            )
            return [_item_from(r) for r in rows], int(total)

    async def cancel(self, run_id: int, team_id: str, now: datetime) -> BatchRun | None:
        async with self._db.write() as conn:
            moved = await conn.execute(
                sa.update(_R)
                .where(
                    _R.c.id == run_id,
                    _R.c.team_id == team_id,
                    _R.c.status.in_([BatchStatus.PENDING.value, BatchStatus.RUNNING.value]),
                )
                .values(status=BatchStatus.CANCELLED.value, cancel_requested=True)
            )
            if moved.rowcount:
                await conn.execute(
                    sa.update(_I)
                    .where(_I.c.run_id == run_id, _I.c.status == ItemStatus.PENDING.value)
                    .values(status=ItemStatus.CANCELLED.value, finished_at=to_db(now))
                )
        return await self.get(run_id, team_id)

    # -- the admitter ------------------------------------------------------------------------
    async def lease_unfinished(
        self, owner: str, now: datetime, lease_seconds: float, limit: int
    ) -> list[BatchRun]:
        free = _R.c.completed_at.is_(None) & (
            _R.c.lease_owner.is_(None)
            | (_R.c.lease_until < to_db(now))
            | (_R.c.lease_owner == owner)
        )
        candidates = sa.select(_R.c.id).where(free).order_by(_R.c.created).limit(limit)
        async with self._db.write() as conn:
            ids = list((await conn.execute(candidates)).scalars())
            if not ids:
                return []
            leased = await conn.execute(
                sa.update(_R)
                .where(_R.c.id.in_(ids), free)
                .values(
                    lease_owner=owner, lease_until=to_db(now + timedelta(seconds=lease_seconds))
                )
                .returning(_R.c.id)
            )
            mine = list(leased.scalars())
            if not mine:
                return []
            rows = (
                await conn.execute(sa.select(_R).where(_R.c.id.in_(mine)).order_by(_R.c.created))
            ).all()
            return await _runs(conn, rows)

    async def release(self, owner: str) -> None:
        await self._db.write_one(
            sa.update(_R)
            .where(_R.c.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )

    async def pending(self, run_id: int, limit: int) -> list[BatchItem]:
        rows = await self._db.fetch(
            sa.select(_I)
            .where(_I.c.run_id == run_id, _I.c.status == ItemStatus.PENDING.value)
            .order_by(_I.c.position)
            .limit(limit)
        )
        return [_item_from(r) for r in rows]

    async def reserve(self, run_id: int, position: int, execution_id: str) -> bool:
        async with self._db.write() as conn:
            moved = await conn.execute(
                sa.update(_I)
                .where(
                    _I.c.run_id == run_id,
                    _I.c.position == position,
                    _I.c.status == ItemStatus.PENDING.value,
                    _I.c.execution_id.is_(None),
                )
                .values(execution_id=execution_id)
            )
        return bool(moved.rowcount)

    async def mark_running(self, run_id: int, position: int, now: datetime) -> bool:
        async with self._db.write() as conn:
            moved = await conn.execute(
                sa.update(_I)
                .where(
                    _I.c.run_id == run_id,
                    _I.c.position == position,
                    _I.c.status == ItemStatus.PENDING.value,
                    _I.c.execution_id.is_not(None),
                )
                .values(status=ItemStatus.RUNNING.value)
            )
            await conn.execute(
                sa.update(_R)
                .where(_R.c.id == run_id, _R.c.status == BatchStatus.PENDING.value)
                .values(status=BatchStatus.RUNNING.value, started_at=to_db(now))
            )
        return bool(moved.rowcount)

    async def finish_items(
        self, run_id: int, outcomes: Sequence[ItemOutcome], now: datetime
    ) -> int:
        moved = 0
        async with self._db.write() as conn:
            for outcome in outcomes:
                result = await conn.execute(
                    sa.update(_I)
                    .where(
                        _I.c.run_id == run_id,
                        _I.c.position == outcome.position,
                        _I.c.status.in_(_OPEN_ITEM),
                    )
                    .values(
                        status=outcome.status.value,
                        eval_score=outcome.eval_score,
                        eval_results=outcome.eval_results,
                        error_message=outcome.error_message,
                        finished_at=to_db(now),
                    )
                )
                moved += int(result.rowcount or 0)
        return moved

    async def finished_executions(
        self, run_id: int, limit: int
    ) -> list[tuple[BatchItem, ExecutionStatus | None]]:
        joined = _I.outerjoin(executions, executions.c.execution_id == _I.c.execution_id)
        rows = await self._db.fetch(
            sa.select(_I, executions.c.status.label("execution_status"))
            .select_from(joined)
            .where(
                _I.c.run_id == run_id,
                _I.c.status == ItemStatus.RUNNING.value,
                executions.c.status.in_(_TERMINAL) | executions.c.id.is_(None),
            )
            .order_by(_I.c.position)
            .limit(limit)
        )
        return [(_item_from(r), _status_or_none(r._mapping["execution_status"])) for r in rows]

    async def running_executions(self, run_id: int, limit: int) -> list[str]:
        rows = await self._db.fetch(
            sa.select(_I.c.execution_id)
            .select_from(_I.join(executions, executions.c.execution_id == _I.c.execution_id))
            .where(
                _I.c.run_id == run_id,
                _I.c.status == ItemStatus.RUNNING.value,
                executions.c.status.not_in(_TERMINAL),
            )
            .order_by(_I.c.position)
            .limit(limit)
        )
        return [r[0] for r in rows]

    async def finalize(self, run_id: int, now: datetime) -> BatchRun | None:
        open_items = (
            sa.select(_I.c.position)
            .where(_I.c.run_id == run_id, _I.c.status.in_(_OPEN_ITEM))
            .limit(1)
        )
        # Asked first without the write lock: most passes end with files still open.
        if await self._db.fetch_one(open_items) is not None:
            return None
        async with self._db.write() as conn:
            if (await conn.execute(open_items)).first() is not None:
                return None
            row = (
                await conn.execute(
                    sa.select(_R).where(_R.c.id == run_id, _R.c.completed_at.is_(None))
                )
            ).first()
            if row is None:
                return None
            counts, _ = (await _tallies(conn, [run_id]))[run_id]
            status = final_batch_status(counts, bool(row._mapping[_R.c.cancel_requested]))
            await conn.execute(
                sa.update(_R)
                .where(_R.c.id == run_id, _R.c.completed_at.is_(None))
                .values(
                    status=status.value,
                    completed_at=to_db(now),
                    started_at=row._mapping[_R.c.started_at] or to_db(now),
                    lease_owner=None,
                    lease_until=None,
                )
            )
            final = (await conn.execute(sa.select(_R).where(_R.c.id == run_id))).one()
            return (await _runs(conn, [final]))[0]
