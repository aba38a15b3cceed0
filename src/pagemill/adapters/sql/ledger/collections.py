"""The collection ledger on SQL: collections of a team's files and their links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from pagemill.adapters.sql.database import Database, from_db, to_db
from pagemill.adapters.sql.ledger.files import file_from
from pagemill.adapters.sql.ledger.listing import newest_first
from pagemill.adapters.sql.tables import collection_files, collections, files
from pagemill.domain.batches import Collection
from pagemill.domain.files import StoredFile
from pagemill.domain.ids import new_public_number
from pagemill.ports.ledger.batches import CollectionLedger

_C = collections
_L = collection_files


def _linked(collection_id: sa.ColumnElement[Any] | int) -> sa.ScalarSelect[int]:
    """How many existing files are linked to the collection."""
    return (
        sa.select(sa.func.count())
        .select_from(_L.join(files, files.c.id == _L.c.file_id))
        .where(_L.c.collection_id == collection_id)
        .scalar_subquery()
    )


def _collection_from(row: sa.Row[Any]) -> Collection:
    m = row._mapping
    return Collection(
        collection_id=m["id"],
        team_id=m["team_id"],
        name=m["name"],
        description=m["description"],
        file_count=int(m["file_count"]),
        created=from_db(m["created"]),
        updated=from_db(m["updated"]),
    )


_WITH_COUNT = sa.select(_C, _linked(_C.c.id).label("file_count"))


class SqlCollectionLedger(CollectionLedger):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self, team_id: str, name: str, description: str | None, now: datetime
    ) -> Collection:
        collection_id = new_public_number()
        async with self._db.write() as conn:
            await conn.execute(
                sa.insert(_C).values(
                    id=collection_id,
                    team_id=team_id,
                    name=name,
                    description=description,
                    created=to_db(now),
                    updated=to_db(now),
                )
            )
        return Collection(collection_id, team_id, name, description, 0, now, now)

    async def get(self, collection_id: int, team_id: str) -> Collection | None:
        row = await self._db.fetch_one(
            _WITH_COUNT.where(_C.c.id == collection_id, _C.c.team_id == team_id)
        )
        return None if row is None else _collection_from(row)

    async def page(self, team_id: str, *, limit: int, offset: int) -> tuple[list[Collection], int]:
        async with self._db.read() as conn:
            rows, total = await newest_first(
                conn,
                [_C.c.team_id == team_id],
                _C.c.created,
                limit=limit,
                offset=offset,
                query=_WITH_COUNT,
            )
        return [_collection_from(r) for r in rows], total

    async def delete(self, collection_id: int, team_id: str) -> bool:
        async with self._db.write() as conn:
            if not await _owned(conn, collection_id, team_id):
                return False
            await conn.execute(sa.delete(_L).where(_L.c.collection_id == collection_id))
            await conn.execute(sa.delete(_C).where(_C.c.id == collection_id))
        return True

    async def add_files(
        self, collection_id: int, team_id: str, file_ids: list[int], now: datetime
    ) -> tuple[int, list[int]] | None:
        async with self._db.write() as conn:
            if not await _owned(conn, collection_id, team_id):
                return None
            known = set(
                (
                    await conn.execute(
                        sa.select(files.c.id).where(
                            files.c.team_id == team_id, files.c.id.in_(file_ids)
                        )
                    )
                ).scalars()
            )
            unknown = [i for i in file_ids if i not in known]
            if unknown:
                return 0, unknown
            linked = set(
                (
                    await conn.execute(
                        sa.select(_L.c.file_id).where(
                            _L.c.collection_id == collection_id, _L.c.file_id.in_(file_ids)
                        )
                    )
                ).scalars()
            )
            new = [i for i in file_ids if i not in linked]
            if new:
                last = await conn.execute(
                    sa.select(sa.func.max(_L.c.position)).where(_L.c.collection_id == collection_id)
                )
                first = (last.scalar_one_or_none() or 0) + 1
                await conn.execute(
                    sa.insert(_L),
                    [
                        {
                            "collection_id": collection_id,
                            "file_id": file_id,
                            "position": first + n,
                            "added": to_db(now),
                        }
                        for n, file_id in enumerate(new)
                    ],
                )
            await _touch(conn, collection_id, now)
        return len(new), []

    async def remove_files(
        self, collection_id: int, team_id: str, file_ids: list[int], now: datetime
    ) -> int | None:
        async with self._db.write() as conn:
            if not await _owned(conn, collection_id, team_id):
                return None
            result = await conn.execute(
                sa.delete(_L).where(_L.c.collection_id == collection_id, _L.c.file_id.in_(file_ids))
            )
            await _touch(conn, collection_id, now)
        return int(result.rowcount or 0)

    async def files(
        self, collection_id: int, team_id: str, *, limit: int, offset: int
    ) -> tuple[list[StoredFile], int] | None:
        async with self._db.read() as conn:
            if not await _owned(conn, collection_id, team_id):
                return None
            joined = _L.join(files, files.c.id == _L.c.file_id)
            mine = _L.c.collection_id == collection_id
            total = (
                await conn.execute(sa.select(sa.func.count()).select_from(joined).where(mine))
            ).scalar_one()
            rows = await conn.execute(
                sa.select(files)
                .select_from(joined)
                .where(mine)
                .order_by(_L.c.position, _L.c.file_id)
                .limit(limit)
                .offset(offset)
            )
            return [file_from(r) for r in rows], int(total)


async def _owned(conn: AsyncConnection, collection_id: int, team_id: str) -> bool:
    row = await conn.execute(
        sa.select(_C.c.id).where(_C.c.id == collection_id, _C.c.team_id == team_id)
    )
    return row.first() is not None


async def _touch(conn: AsyncConnection, collection_id: int, now: datetime) -> None:
    await conn.execute(sa.update(_C).where(_C.c.id == collection_id).values(updated=to_db(now)))
