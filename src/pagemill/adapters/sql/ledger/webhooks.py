"""The webhook ledger on SQL: team secrets, deliveries and their attempt log.

Deliveries are written by ``record_due_webhooks`` inside the transaction that made them due
(completion, failure or cancellation of an execution), so a committed terminal status always
has its webhook recorded. Delivery loops claim a due row with a compare-and-set on its
``attempt`` (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so replicas take different rows): one
attempt of one delivery is sent by one loop at a time. A claim lapses after its lease; the next
claim then logs the lost attempt and sends again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from pagemill.adapters.sql.database import Database, from_db, from_db_opt, to_db
from pagemill.adapters.sql.tables import (
    executions,
    webhook_attempts,
    webhook_deliveries,
    webhook_secrets,
)
from pagemill.domain.errors import Conflict
from pagemill.domain.ids import new_id
from pagemill.domain.models import ExecutionSnapshot
from pagemill.domain.webhooks import (
    DELIVERY_PREFIX,
    FINAL_STATES,
    AttemptOutcome,
    DeliveryState,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSecret,
    due_events,
)
from pagemill.ports.ledger.webhooks import WebhookLedger

_d = webhook_deliveries
_a = webhook_attempts
_s = webhook_secrets
_PENDING = DeliveryState.PENDING.value
_SENDING = DeliveryState.SENDING.value
_CLAIMABLE = [_PENDING, _SENDING]
LOST_ATTEMPT = "No answer was recorded: the process sending this attempt was lost."


def _at(value: datetime) -> sa.BindParameter[datetime]:
    # Typed, so that SQLite formats it like the stored column (plain text comparison).
    return sa.literal(to_db(value), sa.DateTime(timezone=True))


def _opt(value: datetime | None) -> datetime | None:
    return None if value is None else to_db(value)


def delivery_from(row: sa.Row[Any], attempts: tuple[WebhookAttempt, ...] = ()) -> WebhookDelivery:
    m = row._mapping
    return WebhookDelivery(
        pk=m[_d.c.id],
        delivery_id=m[_d.c.delivery_id],
        execution_id=m[_d.c.execution_id],
        team_id=m[_d.c.team_id],
        event=m[_d.c.event],
        url=m[_d.c.url],
        payload=dict(m[_d.c.payload]),
        state=DeliveryState(m[_d.c.state]),
        attempt=m[_d.c.attempt],
        retries=m[_d.c.retries],
        created=from_db(m[_d.c.created]),
        next_attempt_at=from_db_opt(m[_d.c.next_attempt_at]),
        lease_owner=m[_d.c.lease_owner],
        claimed_at=from_db_opt(m[_d.c.claimed_at]),
        last_status_code=m[_d.c.last_status_code],
        last_error=m[_d.c.last_error],
        finished_at=from_db_opt(m[_d.c.finished_at]),
        attempts=attempts,
    )


def attempt_from(row: sa.Row[Any]) -> WebhookAttempt:
    m = row._mapping
    return WebhookAttempt(
        attempt=m[_a.c.attempt],
        started_at=from_db(m[_a.c.started_at]),
        duration_ms=m[_a.c.duration_ms],
        status_code=m[_a.c.status_code],
        error=m[_a.c.error],
    )


def secret_from(row: sa.Row[Any]) -> WebhookSecret:
    m = row._mapping
    return WebhookSecret(
        team_id=m[_s.c.team_id],
        secret=m[_s.c.secret],
        created=from_db(m[_s.c.created]),
        rotated_at=from_db_opt(m[_s.c.rotated_at]),
        previous_secret=m[_s.c.previous_secret],
        previous_expires_at=from_db_opt(m[_s.c.previous_expires_at]),
    )


async def record_due_webhooks(
    conn: AsyncConnection, snapshot: ExecutionSnapshot, now: datetime
) -> None:
    """Record the webhooks this committed state calls for, each once per (execution, event).

    Called by every transaction that can end a step or an execution, with the snapshot it is
    about to return; costs nothing for an execution run without ``webhook_url``.
    """
    events = due_events(snapshot)
    if not events:
        return
    execution = snapshot.execution
    known = set(
        (
            await conn.execute(
                sa.select(_d.c.event).where(_d.c.execution_id == execution.execution_id)
            )
        ).scalars()
    )
    fresh = [event for event in events if event.key not in known]
    if not fresh:
        return
    at = to_db(now)
    await conn.execute(
        sa.insert(_d),
        [
            {
                "delivery_id": new_id(DELIVERY_PREFIX),
                "execution_id": execution.execution_id,
                "team_id": execution.team_id,
                "event": event.key,
                "url": event.url,
                "payload": event.payload,
                "state": _PENDING,
                "attempt": 0,
                "retries": 0,
                "next_attempt_at": at,
                "created": at,
            }
            for event in fresh
        ],
    )


class SqlWebhookLedger(WebhookLedger):
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- secrets -----------------------------------------------------------------------------
    async def secret(self, team_id: str) -> WebhookSecret | None:
        row = await self._db.fetch_one(sa.select(_s).where(_s.c.team_id == team_id))
        return None if row is None else secret_from(row)

    async def create_secret(self, team_id: str, secret: str, now: datetime) -> WebhookSecret:
        try:
            async with self._db.write() as conn:
                row = (await conn.execute(sa.select(_s).where(_s.c.team_id == team_id))).first()
                if row is not None:
                    return secret_from(row)  # another caller created it first
                await conn.execute(
                    sa.insert(_s).values(team_id=team_id, secret=secret, created=to_db(now))
                )
        except Conflict:
            pass  # a concurrent first use inserted it between our read and our insert
        stored = await self.secret(team_id)
        if stored is None:
            raise Conflict(f"Team {team_id} does not exist.")
        return stored

    async def rotate_secret(
        self, team_id: str, secret: str, now: datetime, previous_valid_until: datetime
    ) -> WebhookSecret:
        async with self._db.write() as conn:
            row = (
                await conn.execute(sa.select(_s).where(_s.c.team_id == team_id).with_for_update())
            ).first()
            if row is None:
                await conn.execute(
                    sa.insert(_s).values(team_id=team_id, secret=secret, created=to_db(now))
                )
            else:
                await conn.execute(
                    sa.update(_s)
                    .where(_s.c.team_id == team_id)
                    .values(
                        secret=secret,
                        previous_secret=row._mapping[_s.c.secret],
                        previous_expires_at=to_db(previous_valid_until),
                        rotated_at=to_db(now),
                    )
                )
            stored = (await conn.execute(sa.select(_s).where(_s.c.team_id == team_id))).one()
        return secret_from(stored)

    # -- delivery loops ----------------------------------------------------------------------
    async def claim(
        self, worker: str, now: datetime, lease_seconds: float
    ) -> WebhookDelivery | None:
        due = (
            sa.select(_d.c.id, _d.c.attempt, _d.c.state, _d.c.claimed_at)
            .where(_d.c.state.in_(_CLAIMABLE), _d.c.next_attempt_at <= _at(now))
            .order_by(_d.c.next_attempt_at, _d.c.id)
            .limit(1)
            # Concurrent loops each take a different row instead of queueing on one.
            .with_for_update(skip_locked=True)
        )
        async with self._db.write() as conn:
            found = (await conn.execute(due)).first()
            if found is None:
                return None
            pk, attempt, state, claimed_at = found
            claimed = await conn.execute(
                sa.update(_d)
                .where(_d.c.id == pk, _d.c.attempt == attempt, _d.c.state == state)
                .values(
                    state=_SENDING,
                    attempt=attempt + 1,
                    lease_owner=worker,
                    claimed_at=to_db(now),
                    next_attempt_at=to_db(now + timedelta(seconds=lease_seconds)),
                )
            )
            if claimed.rowcount != 1:
                return None
            if state == _SENDING:  # the previous claim lapsed: its sender is gone
                await _log_attempt(
                    conn, pk, attempt, from_db_opt(claimed_at) or now, None, None, LOST_ATTEMPT
                )
            row = (await conn.execute(sa.select(_d).where(_d.c.id == pk))).one()
        return delivery_from(row)

    async def finish_attempt(
        self,
        delivery_id: str,
        attempt: int,
        worker: str,
        started_at: datetime,
        duration_ms: int,
        outcome: AttemptOutcome,
        now: datetime,
    ) -> bool:
        """Log the attempt and, if the claim still holds, move the delivery to ``outcome``.

        False: the claim lapsed (another loop took the delivery over); only the log changed.
        """
        async with self._db.write() as conn:
            pk = (
                await conn.execute(
                    sa.select(_d.c.id).where(_d.c.delivery_id == delivery_id).with_for_update()
                )
            ).scalar_one_or_none()
            if pk is None:
                return False
            await _log_attempt(
                conn, pk, attempt, started_at, duration_ms, outcome.status_code, outcome.error
            )
            moved = await conn.execute(
                sa.update(_d)
                .where(
                    _d.c.id == pk,
                    _d.c.attempt == attempt,
                    _d.c.state == _SENDING,
                    _d.c.lease_owner == worker,
                )
                .values(
                    state=outcome.state.value,
                    next_attempt_at=_opt(outcome.next_attempt_at),
                    retries=outcome.retries,
                    lease_owner=None,
                    claimed_at=None,
                    last_status_code=outcome.status_code,
                    last_error=outcome.error,
                    finished_at=to_db(now) if outcome.state in FINAL_STATES else None,
                )
            )
            return moved.rowcount == 1

    async def next_due(self) -> datetime | None:
        async with self._db.read() as conn:
            due = (
                await conn.execute(
                    sa.select(sa.func.min(_d.c.next_attempt_at)).where(_d.c.state.in_(_CLAIMABLE))
                )
            ).scalar_one_or_none()
        return from_db_opt(due)

    # -- the delivery log --------------------------------------------------------------------
    async def deliveries(self, execution_id: str, team_id: str) -> list[WebhookDelivery] | None:
        """Oldest first, each with its attempts; None when the execution is not the team's."""
        async with self._db.read() as conn:
            if not await _is_teams(conn, execution_id, team_id):
                return None
            rows = (
                await conn.execute(
                    sa.select(_d).where(_d.c.execution_id == execution_id).order_by(_d.c.id)
                )
            ).all()
            logs = await _attempts(conn, [row._mapping[_d.c.id] for row in rows])
        return [delivery_from(row, logs.get(row._mapping[_d.c.id], ())) for row in rows]

    async def redeliver(
        self, execution_id: str, delivery_id: str, team_id: str, now: datetime
    ) -> WebhookDelivery | None:
        """Queue an attempt now, with the retry schedule started over; None when not found
        for the team; ``Conflict`` while an attempt is in flight."""
        mine = sa.and_(
            _d.c.delivery_id == delivery_id,
            _d.c.execution_id == execution_id,
            _d.c.team_id == team_id,
        )
        async with self._db.write() as conn:
            state = (
                await conn.execute(sa.select(_d.c.state).where(mine).with_for_update())
            ).scalar_one_or_none()
            if state is None:
                return None
            if state == _SENDING:
                raise Conflict(
                    f"Delivery {delivery_id} is being sent right now; redeliver it once that "
                    "attempt has ended."
                )
            await conn.execute(
                sa.update(_d)
                .where(mine)
                .values(state=_PENDING, next_attempt_at=to_db(now), retries=0, finished_at=None)
            )
            row = (await conn.execute(sa.select(_d).where(mine))).one()
            logs = await _attempts(conn, [row._mapping[_d.c.id]])
        return delivery_from(row, logs.get(row._mapping[_d.c.id], ()))


async def _is_teams(conn: AsyncConnection, execution_id: str, team_id: str) -> bool:
    found = (
        await conn.execute(
            sa.select(executions.c.id).where(
                executions.c.execution_id == execution_id, executions.c.team_id == team_id
            )
        )
    ).first()
    return found is not None


async def _attempts(conn: AsyncConnection, pks: list[int]) -> dict[int, tuple[WebhookAttempt, ...]]:
    if not pks:
        return {}
    rows = await conn.execute(
        sa.select(_a).where(_a.c.delivery_pk.in_(pks)).order_by(_a.c.delivery_pk, _a.c.attempt)
    )
    logs: dict[int, list[WebhookAttempt]] = {}
    for row in rows:
        logs.setdefault(row._mapping[_a.c.delivery_pk], []).append(attempt_from(row))
    return {pk: tuple(items) for pk, items in logs.items()}


async def _log_attempt(
    conn: AsyncConnection,
    pk: int,
    attempt: int,
    started_at: datetime,
    duration_ms: int | None,
    status_code: int | None,
    error: str | None,
) -> None:
    """One log row per attempt; a late report of a lapsed attempt replaces the "lost" row."""
    values = {
        "started_at": to_db(started_at),
        "duration_ms": duration_ms,
        "status_code": status_code,
        "error": error,
    }
    key = sa.and_(_a.c.delivery_pk == pk, _a.c.attempt == attempt)
    updated = await conn.execute(sa.update(_a).where(key).values(**values))
    if updated.rowcount == 0:
        await conn.execute(sa.insert(_a).values(delivery_pk=pk, attempt=attempt, **values))
