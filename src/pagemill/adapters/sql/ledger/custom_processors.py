"""The custom-processor catalog on SQL: processors and their immutable versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from pagemill.adapters.sql.database import Database, from_db, to_db
from pagemill.adapters.sql.ledger.versioned import VersionedTables
from pagemill.adapters.sql.tables import custom_processor_versions, custom_processors
from pagemill.domain.custom_processors import CustomProcessor, CustomProcessorVersion
from pagemill.ports.ledger.catalog import CustomProcessorCatalog

PROCESSORS = VersionedTables(
    resources=custom_processors,
    versions=custom_processor_versions,
    public_id="processor_id",
    resource_pk="processor_pk",
    payload="definition",
    updater="custom_processors.update",
    # The columns the updater may set; everything else is owned by the ledger.
    updatable=frozenset({"name", "active_version", "archived"}),
)
_versions = custom_processor_versions
_MAX_VERSION = (
    sa.select(sa.func.max(_versions.c.version))
    .where(_versions.c.processor_pk == custom_processors.c.id)
    .correlate(custom_processors)
    .scalar_subquery()
    .label("max_version")
)
_PROCESSOR = sa.select(custom_processors, _MAX_VERSION)


def processor_from(row: sa.Row[Any]) -> CustomProcessor:
    m = row._mapping
    return CustomProcessor(
        pk=m[custom_processors.c.id],
        processor_id=m[custom_processors.c.processor_id],
        team_id=m[custom_processors.c.team_id],
        name=m[custom_processors.c.name],
        active_version=m[custom_processors.c.active_version],
        max_version=int(m["max_version"] or 0),
        archived=bool(m[custom_processors.c.archived]),
        created=from_db(m[custom_processors.c.created]),
        updated=from_db(m[custom_processors.c.updated]),
    )


def processor_version_from(row: sa.Row[Any]) -> CustomProcessorVersion:
    m = row._mapping
    return CustomProcessorVersion(
        pk=m[_versions.c.id],
        processor_pk=m[_versions.c.processor_pk],
        version=m[_versions.c.version],
        definition=dict(m[_versions.c.definition]),
        description=m[_versions.c.description],
        created=from_db(m[_versions.c.created]),
    )


async def _processor(
    conn: AsyncConnection, where: sa.ColumnElement[bool]
) -> CustomProcessor | None:
    row = (await conn.execute(_PROCESSOR.where(where))).first()
    return None if row is None else processor_from(row)


class SqlCustomProcessorCatalog(CustomProcessorCatalog):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        team_id: str,
        processor_id: str,
        name: str,
        definition: dict[str, Any],
        description: str | None,
        now: datetime,
    ) -> CustomProcessor:
        at = to_db(now)
        async with self._db.write() as conn:
            pk = await PROCESSORS.create(
                conn,
                team_id,
                processor_id,
                at,
                columns={"name": name, "active_version": 1},
                payload=definition,
                description=description,
            )
            created = await _processor(conn, custom_processors.c.id == pk)
        assert created is not None
        return created

    async def get(self, team_id: str, processor_id: str) -> CustomProcessor | None:
        async with self._db.read() as conn:
            return await _processor(conn, PROCESSORS.mine(team_id, processor_id))

    async def page(
        self, team_id: str, *, include_archived: bool, limit: int, offset: int
    ) -> tuple[list[CustomProcessor], int]:
        async with self._db.read() as conn:
            rows, total = await PROCESSORS.page(
                conn,
                _PROCESSOR,
                team_id,
                include_archived=include_archived,
                limit=limit,
                offset=offset,
            )
        return [processor_from(row) for row in rows], total

    async def add_version(
        self,
        team_id: str,
        processor_id: str,
        definition: dict[str, Any],
        description: str | None,
        now: datetime,
        *,
        activate: bool,
    ) -> CustomProcessorVersion | None:
        at = to_db(now)
        async with self._db.write() as conn:
            locked = await PROCESSORS.lock(conn, team_id, processor_id)
            if locked is None:
                return None
            version, inserted = await PROCESSORS.add_version(
                conn, locked.id, definition, description, at
            )
            changes = {"active_version": version} if activate else {}
            await PROCESSORS.touch(conn, locked.id, at, **changes)
            row = (await conn.execute(sa.select(_versions).where(_versions.c.id == inserted))).one()
        return processor_version_from(row)

    async def versions(self, team_id: str, processor_id: str) -> list[CustomProcessorVersion]:
        async with self._db.read() as conn:
            rows = await conn.execute(
                PROCESSORS.version_select(team_id, processor_id).order_by(
                    _versions.c.version.desc()
                )
            )
            return [processor_version_from(row) for row in rows]

    async def version(
        self, team_id: str, processor_id: str, version: int
    ) -> CustomProcessorVersion | None:
        async with self._db.read() as conn:
            row = await PROCESSORS.version_row(conn, team_id, processor_id, version)
        return None if row is None else processor_version_from(row)

    async def update(
        self, team_id: str, processor_id: str, now: datetime, **changes: Any
    ) -> CustomProcessor | None:
        PROCESSORS.check_updatable(changes)
        mine = PROCESSORS.mine(team_id, processor_id)
        async with self._db.write() as conn:
            result = await conn.execute(
                sa.update(custom_processors).where(mine).values(**changes, updated=to_db(now))
            )
            if result.rowcount != 1:
                return None
            return await _processor(conn, mine)
