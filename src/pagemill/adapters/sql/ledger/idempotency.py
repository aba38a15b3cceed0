"""Idempotency-Keys on SQL: claimed inside the transaction that creates an execution.

The claim is an ``INSERT … ON CONFLICT DO NOTHING`` on the primary key (team, key). On
PostgreSQL a concurrent duplicate's insert waits for the first transaction and then finds its
row; on SQLite write transactions are serialized. Either way exactly one creates an execution.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from pagemill.adapters.sql.database import Database, from_db, to_db
from pagemill.adapters.sql.ledger.rows import load_snapshot
from pagemill.adapters.sql.tables import idempotency_keys
from pagemill.domain.errors import IdempotencyMismatch
from pagemill.domain.idempotency import IdempotencyClaim, IdempotencyRecord
from pagemill.domain.models import ExecutionSnapshot
from pagemill.ports.ledger.idempotency import IdempotencyLedger

_K = idempotency_keys


def _record(row: sa.Row[Any]) -> IdempotencyRecord:
    return IdempotencyRecord(
        team_id=row.team_id,
        key=row.key,
        fingerprint=row.fingerprint,
        execution_id=row.execution_id,
        created=from_db(row.created),
        expires_at=from_db(row.expires_at),
    )


async def claim_key(
    conn: AsyncConnection,
    is_sqlite: bool,
    team_id: str,
    execution_id: str,
    claim: IdempotencyClaim,
    now: datetime,
) -> ExecutionSnapshot | None:
    """Record ``claim`` for ``execution_id`` (about to be inserted in this transaction).

    None: the key is the new execution's, go on. A snapshot: the key is held by an earlier
    request of the same fingerprint, answer with its execution and insert nothing.
    ``IdempotencyMismatch`` when it is held by a different request.
    """
    values = {
        "team_id": team_id,
        "key": claim.key,
        "fingerprint": claim.fingerprint,
        "execution_id": execution_id,
        "created": to_db(now),
        "expires_at": to_db(claim.expires_at),
    }
    insert = (sqlite if is_sqlite else postgresql).insert(_K)
    inserted = (
        await conn.execute(insert.values(**values).on_conflict_do_nothing().returning(_K.c.key))
    ).first()
    if inserted is not None:
        return None
    ours = (_K.c.team_id == team_id) & (_K.c.key == claim.key)
    # Locked: of two requests finding the same expired key, the second sees the first's claim.
    row = (await conn.execute(sa.select(_K).where(ours).with_for_update())).one()
    held = _record(row)
    if held.live(now):
        snapshot = await load_snapshot(conn, held.execution_id)
        if snapshot is not None:
            if held.fingerprint != claim.fingerprint:
                raise IdempotencyMismatch(
                    f"Idempotency-Key {claim.key!r} was used for a different request "
                    f"(execution {held.execution_id}); use a new key for a new request."
                )
            return snapshot
    # Expired, or its execution is gone: the key is free, and now this execution's.
    await conn.execute(sa.update(_K).where(ours).values(**values))
    return None


class SqlIdempotencyLedger(IdempotencyLedger):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def find(self, team_id: str, key: str, now: datetime) -> IdempotencyRecord | None:
        row = await self._db.fetch_one(
            sa.select(_K).where(
                _K.c.team_id == team_id, _K.c.key == key, _K.c.expires_at > to_db(now)
            )
        )
        return None if row is None else _record(row)

    async def purge_expired(self, now: datetime, limit: int) -> int:
        expired = (
            sa.select(_K.c.team_id, _K.c.key)
            .where(_K.c.expires_at <= to_db(now))
            .order_by(_K.c.expires_at)
            .limit(limit)
        )
        async with self._db.write() as conn:
            keys = [(r.team_id, r.key) for r in await conn.execute(expired)]
            if not keys:
                return 0
            await conn.execute(
                sa.delete(_K).where(
                    sa.tuple_(_K.c.team_id, _K.c.key).in_(keys), _K.c.expires_at <= to_db(now)
                )
            )
        return len(keys)
