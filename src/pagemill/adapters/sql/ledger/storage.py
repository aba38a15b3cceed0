"""The storage quota in the SQL ledger: one row per team, changed by conditional updates."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from pagemill.adapters.sql.database import Database
from pagemill.adapters.sql.tables import team_storage
from pagemill.ports.ledger.storage import StorageLedger

_S = team_storage


class SqlStorageLedger(StorageLedger):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def reserve(self, team_id: str, size: int, quota: int | None) -> bool:
        insert = (sqlite if self._db.is_sqlite else postgresql).insert(_S)
        if quota is None:
            # One statement, autocommit on PostgreSQL: every upload and result pays it.
            await self._db.write_one(
                insert.values(team_id=team_id, bytes_used=size).on_conflict_do_update(
                    index_elements=[_S.c.team_id], set_={"bytes_used": _S.c.bytes_used + size}
                )
            )
            return True
        async with self._db.write() as conn:
            await conn.execute(
                insert.values(team_id=team_id, bytes_used=0).on_conflict_do_nothing()
            )
            counted = await conn.execute(
                sa.update(_S)
                .where((_S.c.team_id == team_id) & (_S.c.bytes_used + size <= quota))
                .values(bytes_used=_S.c.bytes_used + size)
            )
        return bool(counted.rowcount)

    async def release(self, team_id: str, size: int) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                sa.update(_S)
                .where(_S.c.team_id == team_id)
                .values(
                    bytes_used=sa.case(
                        (_S.c.bytes_used > size, _S.c.bytes_used - size), else_=sa.literal(0)
                    )
                )
            )

    async def used(self, team_id: str) -> int:
        async with self._db.read() as conn:
            used = (
                await conn.execute(sa.select(_S.c.bytes_used).where(_S.c.team_id == team_id))
            ).scalar_one_or_none()
        return int(used or 0)
