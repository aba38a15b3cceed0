"""The file ledger on SQL: uploaded files and their state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pagemill.adapters.sql.database import Database, from_db, to_db
from pagemill.adapters.sql.ledger.listing import newest_first
from pagemill.adapters.sql.tables import collection_files, files
from pagemill.domain.files import FileStatus, StoredFile
from pagemill.domain.ids import new_public_number
from pagemill.ports.ledger.files import FileLedger


def file_from(row: sa.Row[Any]) -> StoredFile:
    m = row._mapping
    return StoredFile(
        file_id=m[files.c.id],
        team_id=m[files.c.team_id],
        original_filename=m[files.c.original_filename],
        content_type=m[files.c.content_type],
        blob_key=m[files.c.blob_key],
        upload_status=FileStatus(m[files.c.upload_status]),
        created=from_db(m[files.c.created]),
        file_size=m[files.c.file_size],
        sha256=m[files.c.sha256],
    )


def _where(file_id: int, team_id: str | None) -> sa.ColumnElement[bool]:
    where = files.c.id == file_id
    return where if team_id is None else where & (files.c.team_id == team_id)


class SqlFileLedger(FileLedger):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self, team_id: str, original_filename: str, content_type: str, blob_key: str, now: datetime
    ) -> StoredFile:
        async with self._db.write() as conn:
            result = await conn.execute(
                sa.insert(files).values(
                    id=new_public_number(),
                    team_id=team_id,
                    original_filename=original_filename,
                    content_type=content_type,
                    blob_key=blob_key,
                    upload_status=FileStatus.PENDING.value,
                    created=to_db(now),
                )
            )
            pk = result.inserted_primary_key
            assert pk is not None
            row = (await conn.execute(sa.select(files).where(files.c.id == pk[0]))).one()
        return file_from(row)

    async def get(self, file_id: int, team_id: str | None) -> StoredFile | None:
        row = await self._db.fetch_one(sa.select(files).where(_where(file_id, team_id)))
        return None if row is None else file_from(row)

    async def page(self, team_id: str, *, limit: int, offset: int) -> tuple[list[StoredFile], int]:
        mine = [files.c.team_id == team_id]
        async with self._db.read() as conn:
            rows, total = await newest_first(
                conn, mine, files.c.created, limit=limit, offset=offset
            )
        return [file_from(row) for row in rows], total

    async def delete(self, file_id: int, team_id: str) -> StoredFile | None:
        where = _where(file_id, team_id)
        async with self._db.write() as conn:
            row = (await conn.execute(sa.select(files).where(where))).first()
            if row is None:
                return None
            await conn.execute(sa.delete(files).where(where))
            # Its links go with it: a collection lists, and a batch run copies, existing files.
            await conn.execute(
                sa.delete(collection_files).where(collection_files.c.file_id == file_id)
            )
        return file_from(row)
