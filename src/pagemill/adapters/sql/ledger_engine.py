"""The engine half of the SQL ledger: claims, heartbeats, completion, failure, finalization.

Every transition is a compare-and-set inside one write transaction. On PostgreSQL the claimer
skips rows another claimer holds (``FOR UPDATE SKIP LOCKED``), and completion and failure lock
the execution row first, so that the steps of one execution change one transaction at a time and
finalization has a single winner. On SQLite the write lock (``BEGIN IMMEDIATE`` plus the
in-process ``asyncio.Lock``) already serializes every write, and ``FOR UPDATE`` renders as
nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from pagemill.adapters.sql.engine import Database, from_db_opt, to_db
from pagemill.adapters.sql.ledger_rows import load_snapshot, step_from
from pagemill.adapters.sql.ledger_webhooks import record_due_webhooks
from pagemill.adapters.sql.tables import executions, step_cache, step_results, step_runs
from pagemill.domain.models import (
    CacheEntry,
    Claim,
    ExecutionSnapshot,
    Heartbeat,
    StepOutput,
    StepRef,
    StepRun,
)
from pagemill.domain.rates import execution_rate_breakdown
from pagemill.domain.statuses import (
    TERMINAL_EXECUTION,
    ExecutionStatus,
    StepStatus,
    can_move_step,
    final_execution_status,
)

_PENDING = StepStatus.PENDING.value
_DISPATCHED = StepStatus.DISPATCHED.value
_RUNNING = StepStatus.RUNNING.value
_TERMINAL = sorted(s.value for s in TERMINAL_EXECUTION)

# Every step move this module makes. The domain's transition table is the authority: a move it
# does not allow is a bug, caught when the module is imported rather than in production data.
STEP_MOVES = (
    (StepStatus.PENDING, StepStatus.DISPATCHED),  # the upstream step completed
    (StepStatus.DISPATCHED, StepStatus.RUNNING),  # claim
    (StepStatus.RUNNING, StepStatus.COMPLETED),  # fenced completion
    (StepStatus.RUNNING, StepStatus.DISPATCHED),  # retry, or a lost lease reaped
    (StepStatus.RUNNING, StepStatus.FAILED),  # out of attempts, or not retryable
    (StepStatus.PENDING, StepStatus.SKIPPED),  # an upstream step failed
    (StepStatus.PENDING, StepStatus.CANCELLED),  # the execution was cancelled
    (StepStatus.DISPATCHED, StepStatus.CANCELLED),
    (StepStatus.RUNNING, StepStatus.CANCELLED),  # its worker saw the cancellation
)
_illegal = [move for move in STEP_MOVES if not can_move_step(*move)]
if _illegal:
    raise RuntimeError(f"ledger moves not allowed by the transition table: {_illegal}")


def _at(value: datetime) -> sa.BindParameter[datetime]:
    # Typed, so that SQLite formats it like the stored column (plain text comparison).
    return sa.literal(to_db(value), sa.DateTime(timezone=True))


def _step(ref: StepRef) -> sa.ColumnElement[bool]:
    return sa.and_(
        step_runs.c.execution_id == ref.execution_id,
        step_runs.c.step_index == ref.step_index,
        step_runs.c.attempt == ref.attempt,
    )


def _fenced(ref: StepRef, worker: str) -> sa.ColumnElement[bool]:
    """Only the attempt that holds the lease may touch its step."""
    return sa.and_(_step(ref), step_runs.c.lease_owner == worker, step_runs.c.status == _RUNNING)


def _by_type(step_types: Sequence[str] | None) -> list[sa.ColumnElement[bool]]:
    return [] if step_types is None else [step_runs.c.step_type.in_(list(step_types))]


class EngineMethods:
    _db: Database

    async def claim_next(
        self, worker: str, now: datetime, lease_seconds: float, step_types: Sequence[str] | None
    ) -> Claim | None:
        if step_types is not None and not step_types:
            return None
        due = (
            sa.select(step_runs.c.execution_id, step_runs.c.step_index, step_runs.c.attempt)
            .join(executions, executions.c.execution_id == step_runs.c.execution_id)
            .where(
                step_runs.c.status == _DISPATCHED,
                step_runs.c.available_at <= _at(now),
                *_by_type(step_types),
            )
            .order_by(step_runs.c.available_at, executions.c.id, step_runs.c.step_index)
            .limit(1)
            # Concurrent claimers each take a different row instead of queueing on one.
            .with_for_update(skip_locked=True, of=step_runs)
        )
        async with self._db.write() as conn:
            row = (await conn.execute(due)).first()
            if row is None:
                return None
            return await self._claim(conn, StepRef(*row), worker, now, lease_seconds)

    async def claim(
        self, ref: StepRef, worker: str, now: datetime, lease_seconds: float
    ) -> Claim | None:
        async with self._db.write() as conn:
            return await self._claim(conn, ref, worker, now, lease_seconds)

    async def _claim(
        self,
        conn: AsyncConnection,
        ref: StepRef,
        worker: str,
        now: datetime,
        lease_seconds: float,
    ) -> Claim | None:
        result = await conn.execute(
            sa.update(step_runs)
            .where(_step(ref), step_runs.c.status == _DISPATCHED)
            .values(
                status=_RUNNING,
                lease_owner=worker,
                lease_expires_at=to_db(now + timedelta(seconds=lease_seconds)),
                heartbeat_at=to_db(now),
                started_at=to_db(now),
            )
        )
        if result.rowcount != 1:
            return None  # stale, duplicate or cancelled delivery
        await _bump(
            conn,
            ref.execution_id,
            status=sa.case(
                (
                    executions.c.status == ExecutionStatus.PENDING.value,
                    ExecutionStatus.RUNNING.value,
                ),
                else_=executions.c.status,
            ),
            started_at=sa.func.coalesce(executions.c.started_at, _at(now)),
        )
        snapshot = await _snapshot(conn, ref.execution_id)
        step = snapshot.steps[ref.step_index]
        upstream = snapshot.steps[ref.step_index - 1] if ref.step_index > 0 else None
        return Claim(step=step, execution=snapshot.execution, upstream=upstream, snapshot=snapshot)

    async def heartbeat(
        self, ref: StepRef, worker: str, now: datetime, lease_seconds: float
    ) -> Heartbeat:
        async with self._db.write() as conn:
            cancel_requested = (
                await conn.execute(
                    sa.update(step_runs)
                    .where(_fenced(ref, worker))
                    .values(
                        lease_expires_at=to_db(now + timedelta(seconds=lease_seconds)),
                        heartbeat_at=to_db(now),
                    )
                    .returning(step_runs.c.cancel_requested)
                )
            ).scalar_one_or_none()
        return Heartbeat(held=cancel_requested is not None, cancel_requested=bool(cancel_requested))

    async def complete_step(
        self,
        ref: StepRef,
        worker: str,
        now: datetime,
        output: StepOutput,
        rates: dict[str, int],
    ) -> ExecutionSnapshot | None:
        async with self._db.write() as conn:
            await self._lock_execution(conn, ref.execution_id)
            result = await conn.execute(
                sa.update(step_runs)
                .where(_fenced(ref, worker))
                .values(
                    status=StepStatus.COMPLETED.value,
                    finished_at=to_db(now),
                    result_key=output.result_key,
                    checkpoint_id=output.checkpoint_id,
                    lease_owner=None,
                    lease_expires_at=None,
                    # A message left by an earlier, retried attempt no longer describes the step.
                    error_message=None,
                    cache=output.cache,
                )
            )
            if result.rowcount != 1:
                # Lost the lease: nothing was written, so ending the transaction discards nothing.
                return None
            if output.cache_key is not None and (output.cache or {}).get("status") != "hit":
                await _remember(conn, ref, output, now)
            await conn.execute(
                sa.insert(step_results).values(
                    execution_id=ref.execution_id,
                    step_index=ref.step_index,
                    attempt=ref.attempt,
                    result_key=output.result_key,
                    checkpoint_id=output.checkpoint_id,
                    page_count=output.page_count,
                    created=to_db(now),
                )
            )
            await _bump(
                conn,
                ref.execution_id,
                # The first step that counts pages (convert) fixes the billed page count.
                page_count=sa.func.coalesce(executions.c.page_count, output.page_count),
            )
            dispatched = await conn.execute(
                sa.update(step_runs)
                .where(
                    step_runs.c.execution_id == ref.execution_id,
                    step_runs.c.step_index == ref.step_index + 1,
                    step_runs.c.status == _PENDING,
                )
                .values(status=_DISPATCHED, attempt=1, available_at=to_db(now))
            )
            if dispatched.rowcount == 0:
                await _finalize(conn, ref.execution_id, now, rates, None)
            snapshot = await _snapshot(conn, ref.execution_id)
            await record_due_webhooks(conn, snapshot, now)
            await self._db.dispatched(conn, snapshot)
            return snapshot

    async def cached(self, team_id: str, cache_key: str) -> CacheEntry | None:
        rows = await self._db.point_read(_CACHED, {"team_id": team_id, "cache_key": cache_key})
        if not rows:
            return None
        m = rows[0]._mapping
        return CacheEntry(
            result_key=m[step_cache.c.result_key],
            checkpoint_id=m[step_cache.c.checkpoint_id],
            page_count=m[step_cache.c.page_count],
            source_execution_id=m[step_cache.c.source_execution_id],
            source_step_index=m[step_cache.c.source_step_index],
        )

    async def fail_step(
        self,
        ref: StepRef,
        worker: str,
        now: datetime,
        error: str,
        retry_at: datetime | None,
        rates: dict[str, int],
    ) -> ExecutionSnapshot | None:
        async with self._db.write() as conn:
            await self._lock_execution(conn, ref.execution_id)
            held = (
                await conn.execute(
                    sa.select(step_runs.c.max_attempts, step_runs.c.cancel_requested).where(
                        _fenced(ref, worker)
                    )
                )
            ).first()
            if held is None:
                return None
            max_attempts, cancelled = held
            # A step whose execution was cancelled ends cancelled, whatever stopped it.
            retry = retry_at is not None and ref.attempt < max_attempts and not cancelled
            values: dict[str, Any] = {
                "lease_owner": None,
                "lease_expires_at": None,
                "error_message": error,
            }
            if retry and retry_at is not None:
                values |= {
                    "status": _DISPATCHED,
                    "attempt": ref.attempt + 1,
                    "available_at": to_db(retry_at),
                }
            elif cancelled:
                values |= {"status": StepStatus.CANCELLED.value, "finished_at": to_db(now)}
            else:
                values |= {"status": StepStatus.FAILED.value, "finished_at": to_db(now)}
            result = await conn.execute(
                sa.update(step_runs).where(_fenced(ref, worker)).values(**values)
            )
            if result.rowcount != 1:
                return None
            await _bump(conn, ref.execution_id)
            if not retry:
                # A linear chain cannot run past a failed step.
                await conn.execute(
                    sa.update(step_runs)
                    .where(
                        step_runs.c.execution_id == ref.execution_id,
                        step_runs.c.step_index > ref.step_index,
                        step_runs.c.status == _PENDING,
                    )
                    .values(status=StepStatus.SKIPPED.value)
                )
                await _finalize(conn, ref.execution_id, now, rates, error)
            snapshot = await _snapshot(conn, ref.execution_id)
            await record_due_webhooks(conn, snapshot, now)
            await self._db.dispatched(conn, snapshot)
            return snapshot

    async def expired_leases(self, now: datetime, limit: int) -> list[StepRun]:
        async with self._db.read() as conn:
            rows = await conn.execute(
                sa.select(step_runs)
                .where(step_runs.c.status == _RUNNING, step_runs.c.lease_expires_at < _at(now))
                .order_by(step_runs.c.lease_expires_at)
                .limit(limit)
            )
            return [step_from(row) for row in rows]

    async def leased_by_others(self, boot_prefix: str) -> list[StepRun]:
        owner = step_runs.c.lease_owner
        async with self._db.read() as conn:
            rows = await conn.execute(
                sa.select(step_runs)
                .where(
                    step_runs.c.status == _RUNNING,
                    sa.or_(owner.is_(None), ~owner.startswith(boot_prefix, autoescape=True)),
                )
                .order_by(step_runs.c.execution_id, step_runs.c.step_index)
            )
            return [step_from(row) for row in rows]

    async def next_due(self, step_types: Sequence[str] | None) -> datetime | None:
        if step_types is not None and not step_types:
            return None
        async with self._db.read() as conn:
            due = (
                await conn.execute(
                    sa.select(sa.func.min(step_runs.c.available_at)).where(
                        step_runs.c.status == _DISPATCHED, *_by_type(step_types)
                    )
                )
            ).scalar_one_or_none()
        return from_db_opt(due)

    async def _lock_execution(self, conn: AsyncConnection, execution_id: str) -> None:
        if self._db.is_sqlite:
            return  # the write transaction already holds the database lock
        await conn.execute(
            sa.select(executions.c.id)
            .where(executions.c.execution_id == execution_id)
            .with_for_update()
        )


async def _bump(conn: AsyncConnection, execution_id: str, **values: Any) -> None:
    """Count one more transition of the execution (the live store's freshness stamp)."""
    await conn.execute(
        sa.update(executions)
        .where(executions.c.execution_id == execution_id)
        .values(seq=executions.c.seq + 1, **values)
    )


async def _snapshot(conn: AsyncConnection, execution_id: str) -> ExecutionSnapshot:
    snapshot = await load_snapshot(conn, execution_id)
    assert snapshot is not None  # the caller changed a step of it in this transaction
    return snapshot


async def _finalize(
    conn: AsyncConnection,
    execution_id: str,
    now: datetime,
    rates: dict[str, int],
    error: str | None,
) -> None:
    """Make the execution terminal unless it already is (then another transaction won)."""
    steps = (
        await conn.execute(
            sa.select(step_runs.c.step_type, step_runs.c.status)
            .where(step_runs.c.execution_id == execution_id)
            .order_by(step_runs.c.step_index)
        )
    ).all()
    page_count = (
        await conn.execute(
            sa.select(executions.c.page_count).where(executions.c.execution_id == execution_id)
        )
    ).scalar_one()
    statuses = [StepStatus(status) for _, status in steps]
    final = final_execution_status(statuses)
    values: dict[str, Any] = {
        "status": final.value,
        "completed_at": to_db(now),
        "rate_breakdown": execution_rate_breakdown(
            [step_type for step_type, _ in steps],
            [s is StepStatus.COMPLETED for s in statuses],
            page_count or 0,
            rates,
        ),
    }
    if error is not None and final is not ExecutionStatus.COMPLETED:
        values["error_message"] = error
    await conn.execute(
        sa.update(executions)
        .where(executions.c.execution_id == execution_id, executions.c.status.not_in(_TERMINAL))
        .values(**values)
    )


_CACHED = sa.select(step_cache).where(
    step_cache.c.team_id == sa.bindparam("team_id"),
    step_cache.c.cache_key == sa.bindparam("cache_key"),
)


async def _remember(conn: AsyncConnection, ref: StepRef, output: StepOutput, now: datetime) -> None:
    """Point the cache key at this result (the newest identical work wins)."""
    team_id = (
        await conn.execute(
            sa.select(executions.c.team_id).where(executions.c.execution_id == ref.execution_id)
        )
    ).scalar_one()
    key = (step_cache.c.team_id == team_id) & (step_cache.c.cache_key == output.cache_key)
    await conn.execute(sa.delete(step_cache).where(key))
    await conn.execute(
        sa.insert(step_cache).values(
            team_id=team_id,
            cache_key=output.cache_key,
            result_key=output.result_key,
            checkpoint_id=output.checkpoint_id,
            page_count=output.page_count,
            source_execution_id=ref.execution_id,
            source_step_index=ref.step_index,
            created=to_db(now),
        )
    )
