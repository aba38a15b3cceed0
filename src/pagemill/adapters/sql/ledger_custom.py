"""The custom-processor half of the SQL ledger: processors and their immutable versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from pagemill.adapters.sql.engine import Database, from_db, to_db
from pagemill.adapters.sql.tables import custom_processor_versions, custom_processors
from pagemill.domain.custom_processors import CustomProcessor, CustomProcessorVersion

# The columns ``update_custom_processor`` may set; everything else is owned by the ledger.
UPDATABLE_CUSTOM_PROCESSOR_COLUMNS = frozenset({"name", "active_version", "archived"})

_versions = custom_processor_versions
_MAX_VERSION = (
    sa.select(sa.func.max(_versions.c.version))
    .where(_versions.c.processor_pk == custom_processors.c.id)
    .correlate(custom_processors)
    .scalar_subquery()
    .label("max_version")
)
_PROCESSOR = sa.select(custom_processors, _MAX_VERSION)


def _mine(team_id: str, processor_id: str) -> sa.ColumnElement[bool]:
    return (custom_processors.c.processor_id == processor_id) & (
        custom_processors.c.team_id == team_id
    )


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


class CustomProcessorMethods:
    _db: Database

    async def create_custom_processor(
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
            result = await conn.execute(
                sa.insert(custom_processors).values(
                    processor_id=processor_id,
                    team_id=team_id,
                    name=name,
                    active_version=1,
                    archived=False,
                    created=at,
                    updated=at,
                )
            )
            pk = result.inserted_primary_key
            assert pk is not None
            await conn.execute(
                sa.insert(_versions).values(
                    processor_pk=pk[0],
                    version=1,
                    definition=definition,
                    description=description,
                    created=at,
                )
            )
            created = await _processor(conn, custom_processors.c.id == pk[0])
        assert created is not None
        return created

    async def custom_processor(self, team_id: str, processor_id: str) -> CustomProcessor | None:
        async with self._db.read() as conn:
            return await _processor(conn, _mine(team_id, processor_id))

    async def list_custom_processors(
        self, team_id: str, *, include_archived: bool, limit: int, offset: int
    ) -> tuple[list[CustomProcessor], int]:
        where: list[sa.ColumnElement[bool]] = [custom_processors.c.team_id == team_id]
        if not include_archived:
            where.append(custom_processors.c.archived.is_(False))
        async with self._db.read() as conn:
            total = (
                await conn.execute(
                    sa.select(sa.func.count()).select_from(custom_processors).where(*where)
                )
            ).scalar_one()
            rows = await conn.execute(
                _PROCESSOR.where(*where)
                .order_by(custom_processors.c.updated.desc(), custom_processors.c.id.desc())
                .limit(limit)
                .offset(offset)
            )
            items = [processor_from(row) for row in rows]
        return items, int(total)

    async def add_custom_processor_version(
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
            # Lock the processor: two concurrent iterations must not pick the same number.
            pk = (
                await conn.execute(
                    sa.select(custom_processors.c.id)
                    .where(_mine(team_id, processor_id))
                    .with_for_update()
                )
            ).scalar_one_or_none()
            if pk is None:
                return None
            latest = (
                await conn.execute(
                    sa.select(sa.func.max(_versions.c.version)).where(
                        _versions.c.processor_pk == pk
                    )
                )
            ).scalar_one()
            version = (latest or 0) + 1
            result = await conn.execute(
                sa.insert(_versions).values(
                    processor_pk=pk,
                    version=version,
                    definition=definition,
                    description=description,
                    created=at,
                )
            )
            inserted = result.inserted_primary_key
            assert inserted is not None
            changes: dict[str, Any] = {"updated": at}
            if activate:
                changes["active_version"] = version
            await conn.execute(
                sa.update(custom_processors).where(custom_processors.c.id == pk).values(**changes)
            )
            row = (
                await conn.execute(sa.select(_versions).where(_versions.c.id == inserted[0]))
            ).one()
        return processor_version_from(row)

    async def custom_processor_versions(
        self, team_id: str, processor_id: str
    ) -> list[CustomProcessorVersion]:
        async with self._db.read() as conn:
            rows = await conn.execute(
                sa.select(_versions)
                .join(custom_processors, custom_processors.c.id == _versions.c.processor_pk)
                .where(_mine(team_id, processor_id))
                .order_by(_versions.c.version.desc())
            )
            return [processor_version_from(row) for row in rows]

    async def custom_processor_version(
        self, team_id: str, processor_id: str, version: int
    ) -> CustomProcessorVersion | None:
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    sa.select(_versions)
                    .join(custom_processors, custom_processors.c.id == _versions.c.processor_pk)
                    .where(_mine(team_id, processor_id), _versions.c.version == version)
                )
            ).first()
        return None if row is None else processor_version_from(row)

    async def update_custom_processor(
        self, team_id: str, processor_id: str, now: datetime, **changes: Any
    ) -> CustomProcessor | None:
        unknown = set(changes) - UPDATABLE_CUSTOM_PROCESSOR_COLUMNS
        if unknown:
            raise ValueError(
                f"update_custom_processor cannot set {', '.join(sorted(unknown))}; "
                f"only {', '.join(sorted(UPDATABLE_CUSTOM_PROCESSOR_COLUMNS))}"
            )
        mine = _mine(team_id, processor_id)
        async with self._db.write() as conn:
            result = await conn.execute(
                sa.update(custom_processors).where(mine).values(**changes, updated=to_db(now))
            )
            if result.rowcount != 1:
                return None
            return await _processor(conn, mine)
