"""The upload half of the files ledger: content replaced and confirmed by conditional updates."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from pagemill.adapters.sql.database import Database
from pagemill.adapters.sql.ledger.files import file_from
from pagemill.adapters.sql.tables import files
from pagemill.domain.files import FileStatus, StoredFile
from pagemill.ports.ledger.uploads import ReplacedContent, UploadLedger

_COMPLETED = FileStatus.COMPLETED.value


def _open(file_id: int) -> sa.ColumnElement[bool]:
    """The file, while it is not confirmed."""
    return (files.c.id == file_id) & (files.c.upload_status != _COMPLETED)


class SqlUploadLedger(UploadLedger):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def replace_pending(
        self, file_id: int, blob_key: str, file_size: int, sha256: str
    ) -> ReplacedContent | None:
        return await self._replace_open(
            file_id,
            blob_key=blob_key,
            file_size=file_size,
            sha256=sha256,
            upload_status=FileStatus.PENDING.value,
        )

    async def fail_pending(self, file_id: int) -> ReplacedContent | None:
        return await self._replace_open(
            file_id, upload_status=FileStatus.FAILED.value, file_size=None, sha256=None
        )

    async def _replace_open(self, file_id: int, **values: Any) -> ReplacedContent | None:
        """Set ``values`` on the file while it is not confirmed; with what it held before."""
        async with self._db.write() as conn:
            # The row lock keeps a concurrent upload or confirm out until this one commits,
            # so the content read here is the content replaced.
            previous = (
                await conn.execute(
                    sa.select(files.c.blob_key, files.c.file_size)
                    .where(_open(file_id))
                    .with_for_update()
                )
            ).first()
            if previous is None:
                return None
            row = (
                await conn.execute(
                    sa.update(files).where(_open(file_id)).values(**values).returning(*files.c)
                )
            ).one()
        return ReplacedContent(file_from(row), str(previous[0]), previous[1])

    async def confirm(self, file_id: int, team_id: str) -> StoredFile | None:
        mine = (files.c.id == file_id) & (files.c.team_id == team_id)
        async with self._db.write() as conn:
            row: sa.Row[Any] | None = (
                await conn.execute(
                    sa.update(files)
                    .where(
                        mine
                        & (files.c.upload_status == FileStatus.PENDING.value)
                        & files.c.file_size.is_not(None)
                    )
                    .values(upload_status=_COMPLETED)
                    .returning(*files.c)
                )
            ).first()
            if row is None:
                row = (await conn.execute(sa.select(files).where(mine))).first()
        return None if row is None else file_from(row)
