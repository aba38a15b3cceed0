"""The files half of the SQL ledger: uploaded files, and the pages a team has in flight."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pagemill.adapters.sql.engine import Database, from_db, to_db
from pagemill.adapters.sql.tables import executions, files
from pagemill.domain.files import FileStatus, StoredFile
from pagemill.domain.ids import new_public_number
from pagemill.domain.statuses import TERMINAL_EXECUTION, ExecutionStatus

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


class FileMethods:
    _db: Database

    async def create_file(
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

    async def file(self, file_id: int, team_id: str | None) -> StoredFile | None:
        async with self._db.read() as conn:
            row = (await conn.execute(sa.select(files).where(_where(file_id, team_id)))).first()
        return None if row is None else file_from(row)

    async def list_files(
        self, team_id: str, *, limit: int, offset: int
    ) -> tuple[list[StoredFile], int]:
        mine = files.c.team_id == team_id
        async with self._db.read() as conn:
            total = (
                await conn.execute(sa.select(sa.func.count()).select_from(files).where(mine))
            ).scalar_one()
            rows = await conn.execute(
                sa.select(files)
                .where(mine)
                .order_by(files.c.created.desc(), files.c.id.desc())
                .limit(limit)
                .offset(offset)
            )
            items = [file_from(row) for row in rows]
        return items, int(total)

    async def delete_file(self, file_id: int, team_id: str) -> StoredFile | None:
        where = _where(file_id, team_id)
        async with self._db.write() as conn:
            row = (await conn.execute(sa.select(files).where(where))).first()
            if row is None:
                return None
            await conn.execute(sa.delete(files).where(where))
        return file_from(row)

    async def pages_in_flight(self, team_id: str) -> int:
        # One statement: an autocommit read on PostgreSQL (checked at every submit), without
        # SQLAlchemy's pool and result machinery there (a fifth of the cost).
        if self._db.is_sqlite:
            [row] = await self._db.point_read(_PAGES_IN_FLIGHT, {"team_id": team_id})
            return int(row[0])
        [plain] = await self._db.point_read_plain(_PAGES_IN_FLIGHT_PLAIN, {"team_id": team_id})
        return int(plain[0])
