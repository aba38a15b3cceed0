"""The step ledger on SQL: claims, heartbeats, completion, failure, release, lost leases.

Every transition is a compare-and-set inside one write transaction, shaped as ``transitions``
describes: the execution row is locked first, so that the steps of one
execution change one transaction at a time and finalization has a single winner. A claim locks
it with the ``UPDATE`` that starts the execution and rolls back when the step's compare-and-set
then fails. On PostgreSQL the polling claimer (``claim_next``) skips executions that another
transaction holds (``FOR UPDATE SKIP LOCKED``). On SQLite the write lock (``BEGIN IMMEDIATE``
plus the in-process ``asyncio.Lock``) already serializes every write, and ``FOR UPDATE``
renders as nothing.

The hot statements (claim, completion) are prebuilt with bind parameters, and the completion
reads the steps once and the execution not at all (``UPDATE … RETURNING``): a one-step
execution costs six statements to complete on SQLite, and three on PostgreSQL, where
data-modifying CTEs merge them (``completion``). On PostgreSQL a claim by reference (queue
delivery) is a single statement in autocommit (``claim``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from pagemill.adapters.sql.database import Database, from_db_opt, to_db
from pagemill.adapters.sql.ledger.claim import (
    Undone,
    claim_in_one_statement,
    claim_in_transaction,
)
from pagemill.adapters.sql.ledger.completion import complete_in_transaction, complete_with_ctes
from pagemill.adapters.sql.ledger.rows import step_from
from pagemill.adapters.sql.ledger.statements import CACHED
from pagemill.adapters.sql.ledger.transitions import (
    commit_transition,
    final_values,
    lock_head,
    read_steps,
)
from pagemill.adapters.sql.ledger.webhooks import record_due_webhooks
from pagemill.adapters.sql.tables import executions, step_cache, step_runs
from pagemill.domain.models import (
    CacheEntry,
    Claim,
    ExecutionSnapshot,
    Heartbeat,
    StepOutput,
    StepRef,
    StepRun,
    StuckSteps,
)
from pagemill.domain.statuses import TERMINAL_STEP, StepStatus, can_move_step
from pagemill.ports.ledger.steps import StepLedger

_PENDING = StepStatus.PENDING.value
_DISPATCHED = StepStatus.DISPATCHED.value
CLAIM_NEXT_TRIES = 4
_RUNNING = StepStatus.RUNNING.value
_STUCK_LIMIT = 500

# Every step move this module makes. The domain's transition table is the authority: a move it
# does not allow is a bug, caught when the module is imported rather than in production data.
STEP_MOVES = (
    (StepStatus.PENDING, StepStatus.DISPATCHED),  # the upstream step completed
    (StepStatus.DISPATCHED, StepStatus.RUNNING),  # claim
    (StepStatus.RUNNING, StepStatus.COMPLETED),  # fenced completion
    (StepStatus.RUNNING, StepStatus.DISPATCHED),  # retry, release, or a lost lease reaped
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


def fenced(ref: StepRef, worker: str) -> sa.ColumnElement[bool]:
    """Only the attempt that holds the lease may touch its step."""
    return sa.and_(_step(ref), step_runs.c.lease_owner == worker, step_runs.c.status == _RUNNING)


def _by_type(step_types: Sequence[str] | None) -> list[sa.ColumnElement[bool]]:
    return [] if step_types is None else [step_runs.c.step_type.in_(list(step_types))]


class SqlStepLedger(StepLedger):
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- claiming ----------------------------------------------------------------------------
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
            # Concurrent claimers each take a different execution instead of queueing on one.
            # The execution row, not the step: every transition locks the execution first.
            .with_for_update(skip_locked=True, of=executions)
        )
        # A concurrent claimer can commit between our read of the step and our lock of its
        # execution; PostgreSQL then rechecks only the locked execution row, so the step we
        # found may be taken already. That is no reason to report "nothing to claim": look
        # again (a few times; a step that stays unclaimable ends the search).
        for _ in range(CLAIM_NEXT_TRIES):
            try:
                async with self._db.write() as conn:
                    row = (await conn.execute(due)).first()
                    if row is None:
                        return None
                    return await claim_in_transaction(
                        conn, StepRef(*row), worker, now, lease_seconds
                    )
            except Undone:
                continue
        return None

    async def claim(
        self, ref: StepRef, worker: str, now: datetime, lease_seconds: float
    ) -> Claim | None:
        if not self._db.is_sqlite:
            return await claim_in_one_statement(self._db, ref, worker, now, lease_seconds)
        try:
            async with self._db.write() as conn:
                return await claim_in_transaction(conn, ref, worker, now, lease_seconds)
        except Undone:
            return None  # stale, duplicate or cancelled delivery

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

    # -- a running attempt -------------------------------------------------------------------
    async def heartbeat(
        self, ref: StepRef, worker: str, now: datetime, lease_seconds: float
    ) -> Heartbeat:
        async with self._db.write() as conn:
            cancel_requested = (
                await conn.execute(
                    sa.update(step_runs)
                    .where(fenced(ref, worker))
                    .values(
                        lease_expires_at=to_db(now + timedelta(seconds=lease_seconds)),
                        heartbeat_at=to_db(now),
                    )
                    .returning(step_runs.c.cancel_requested)
                )
            ).scalar_one_or_none()
        return Heartbeat(held=cancel_requested is not None, cancel_requested=bool(cancel_requested))

    async def cached(self, team_id: str, cache_key: str) -> CacheEntry | None:
        rows = await self._db.point_read(CACHED, {"team_id": team_id, "cache_key": cache_key})
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

    async def complete(
        self,
        ref: StepRef,
        worker: str,
        now: datetime,
        output: StepOutput,
        rates: dict[str, int],
    ) -> ExecutionSnapshot | None:
        async with self._db.write() as conn:
            head = await lock_head(conn, ref.execution_id)
            if head is None:
                return None
            complete = complete_in_transaction if self._db.is_sqlite else complete_with_ctes
            snapshot = await complete(conn, head, ref, worker, now, output, rates)
            if snapshot is not None:
                await record_due_webhooks(conn, snapshot, now)
                await self._db.dispatched(conn, snapshot)
            return snapshot

    async def fail(
        self,
        ref: StepRef,
        worker: str,
        now: datetime,
        error: str,
        retry_at: datetime | None,
        rates: dict[str, int],
    ) -> ExecutionSnapshot | None:
        async with self._db.write() as conn:
            head = await lock_head(conn, ref.execution_id)
            if head is None:
                return None
            held = (
                await conn.execute(
                    sa.select(step_runs.c.max_attempts, step_runs.c.cancel_requested).where(
                        fenced(ref, worker)
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
                sa.update(step_runs).where(fenced(ref, worker)).values(**values)
            )
            if result.rowcount != 1:
                return None
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
            steps = await read_steps(conn, ref.execution_id)
            final: dict[str, Any] = {}
            if not retry and not head.terminal:
                final = final_values(
                    steps, now, rates, head.page_count, error, head.retention_seconds
                )
            snapshot = await commit_transition(conn, ref.execution_id, steps, **final)
            await record_due_webhooks(conn, snapshot, now)
            await self._db.dispatched(conn, snapshot)
            return snapshot

    async def release(self, ref: StepRef, worker: str, now: datetime) -> ExecutionSnapshot | None:
        async with self._db.write() as conn:
            if await lock_head(conn, ref.execution_id) is None:
                return None
            result = await conn.execute(
                sa.update(step_runs)
                .where(fenced(ref, worker), step_runs.c.cancel_requested.is_(False))
                .values(
                    status=_DISPATCHED,
                    # A new attempt fences this worker off; it is not charged: a worker that
                    # shuts down cleanly did nothing wrong.
                    attempt=ref.attempt + 1,
                    max_attempts=step_runs.c.max_attempts + 1,
                    available_at=to_db(now),
                    lease_owner=None,
                    lease_expires_at=None,
                )
            )
            if result.rowcount != 1:
                return None
            steps = await read_steps(conn, ref.execution_id)
            snapshot = await commit_transition(conn, ref.execution_id, steps)
            await self._db.dispatched(conn, snapshot)
            return snapshot

    # -- lost leases -------------------------------------------------------------------------
    async def expired_leases(self, now: datetime, limit: int) -> list[StepRun]:
        expired = step_runs.c.lease_expires_at < _at(now)
        rows = await self._db.fetch(_steps(_RUNNING, expired, by=_EXPIRY, limit=limit))
        return [step_from(row) for row in rows]

    async def leased_by_others(self, boot_prefix: str) -> list[StepRun]:
        owner = step_runs.c.lease_owner
        others = sa.or_(owner.is_(None), ~owner.startswith(boot_prefix, autoescape=True))
        rows = await self._db.fetch(_steps(_RUNNING, others, by=_POSITION, limit=None))
        return [step_from(row) for row in rows]

    # -- operations --------------------------------------------------------------------------
    async def stuck(
        self, now: datetime, lease_grace_seconds: float, queued_too_long_seconds: float
    ) -> StuckSteps:
        expired_before = to_db(now - timedelta(seconds=lease_grace_seconds))
        queued_before = to_db(now - timedelta(seconds=queued_too_long_seconds))
        expired = step_runs.c.lease_expires_at < expired_before
        starved = step_runs.c.available_at < queued_before
        retried = sa.and_(
            step_runs.c.attempt > 1, step_runs.c.status.not_in([s.value for s in TERMINAL_STEP])
        )
        async with self._db.read() as conn:  # one snapshot for the three lists
            return StuckSteps(
                expired_leases=await _read(conn, _steps(_RUNNING, expired, by=_EXPIRY)),
                queued_too_long=await _read(
                    conn, _steps(_DISPATCHED, starved, by=(step_runs.c.available_at,))
                ),
                retried=await _read(conn, _steps(None, retried, by=_POSITION)),
            )

    async def queue_depth(self) -> dict[str, int]:
        async with self._db.read() as conn:
            rows = await conn.execute(
                sa.select(step_runs.c.step_type, sa.func.count())
                .where(step_runs.c.status == _DISPATCHED)
                .group_by(step_runs.c.step_type)
            )
            return {str(step_type): int(count) for step_type, count in rows}


_EXPIRY = (step_runs.c.lease_expires_at,)
_POSITION = (step_runs.c.execution_id, step_runs.c.step_index)


def _steps(
    status: str | None,
    where: sa.ColumnElement[bool],
    *,
    by: tuple[sa.ColumnElement[Any], ...],
    limit: int | None = _STUCK_LIMIT,
) -> sa.Select[Any]:
    """Steps (of ``status``, when given) that match ``where``, ordered ``by``, at most ``limit``
    (None: all of them)."""
    of_status = [] if status is None else [step_runs.c.status == status]
    query = sa.select(step_runs).where(*of_status, where).order_by(*by)
    return query if limit is None else query.limit(limit)


async def _read(conn: AsyncConnection, query: sa.Select[Any]) -> list[StepRun]:
    return [step_from(row) for row in await conn.execute(query)]
