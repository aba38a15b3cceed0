"""The extraction-schema half of the SQL ledger: saved schemas and their immutable versions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from pagemill.adapters.sql.engine import Database, from_db, to_db
from pagemill.adapters.sql.tables import extraction_schema_versions, extraction_schemas
from pagemill.domain.extraction_schemas import (
    ExtractionSchema,
    ExtractionSchemaVersion,
    SchemaVersionSummary,
)

# The columns ``update_extraction_schema`` may set; everything else is owned by the ledger.
UPDATABLE_EXTRACTION_SCHEMA_COLUMNS = frozenset({"name", "description", "archived"})

_schemas = extraction_schemas
_versions = extraction_schema_versions
# A schema with the JSON of its current version.
_SCHEMA = sa.select(_schemas, _versions.c.schema_json).join(
    _versions,
    (_versions.c.schema_pk == _schemas.c.id) & (_versions.c.version == _schemas.c.current_version),
)
_HISTORY = sa.select(
    _versions.c.schema_pk, _versions.c.version, _versions.c.description, _versions.c.created
)


def _mine(team_id: str, schema_id: str) -> sa.ColumnElement[bool]:
    return (_schemas.c.schema_id == schema_id) & (_schemas.c.team_id == team_id)


def schema_from(row: sa.Row[Any], history: Sequence[SchemaVersionSummary]) -> ExtractionSchema:
    m = row._mapping
    return ExtractionSchema(
        pk=m[_schemas.c.id],
        schema_id=m[_schemas.c.schema_id],
        team_id=m[_schemas.c.team_id],
        name=m[_schemas.c.name],
        description=m[_schemas.c.description],
        current_version=m[_schemas.c.current_version],
        schema_json=dict(m[_versions.c.schema_json]),
        archived=bool(m[_schemas.c.archived]),
        created=from_db(m[_schemas.c.created]),
        updated=from_db(m[_schemas.c.updated]),
        history=tuple(history),
    )


def schema_version_from(row: sa.Row[Any]) -> ExtractionSchemaVersion:
    m = row._mapping
    return ExtractionSchemaVersion(
        pk=m[_versions.c.id],
        schema_pk=m[_versions.c.schema_pk],
        version=m[_versions.c.version],
        schema_json=dict(m[_versions.c.schema_json]),
        description=m[_versions.c.description],
        created=from_db(m[_versions.c.created]),
    )


async def _histories(
    conn: AsyncConnection, pks: Sequence[int]
) -> dict[int, list[SchemaVersionSummary]]:
    """The version history of each schema, newest first (one query for a whole page)."""
    found: dict[int, list[SchemaVersionSummary]] = {pk: [] for pk in pks}
    if not pks:
        return found
    rows = await conn.execute(
        _HISTORY.where(_versions.c.schema_pk.in_(pks)).order_by(
            _versions.c.schema_pk, _versions.c.version.desc()
        )
    )
    for row in rows:
        m = row._mapping
        found[m[_versions.c.schema_pk]].append(
            SchemaVersionSummary(
                version=m[_versions.c.version],
                description=m[_versions.c.description],
                created=from_db(m[_versions.c.created]),
            )
        )
    return found


async def _schema(conn: AsyncConnection, where: sa.ColumnElement[bool]) -> ExtractionSchema | None:
    row = (await conn.execute(_SCHEMA.where(where))).first()
    if row is None:
        return None
    pk = row._mapping[_schemas.c.id]
    return schema_from(row, (await _histories(conn, [pk]))[pk])


class ExtractionSchemaMethods:
    _db: Database

    async def create_extraction_schema(
        self,
        team_id: str,
        schema_id: str,
        name: str,
        schema_json: dict[str, Any],
        description: str | None,
        now: datetime,
    ) -> ExtractionSchema:
        at = to_db(now)
        async with self._db.write() as conn:
            result = await conn.execute(
                sa.insert(_schemas).values(
                    schema_id=schema_id,
                    team_id=team_id,
                    name=name,
                    description=description,
                    current_version=1,
                    archived=False,
                    created=at,
                    updated=at,
                )
            )
            pk = result.inserted_primary_key
            assert pk is not None
            await conn.execute(
                sa.insert(_versions).values(
                    schema_pk=pk[0],
                    version=1,
                    schema_json=schema_json,
                    description=description,
                    created=at,
                )
            )
            created = await _schema(conn, _schemas.c.id == pk[0])
        assert created is not None
        return created

    async def extraction_schema(self, team_id: str, schema_id: str) -> ExtractionSchema | None:
        async with self._db.read() as conn:
            return await _schema(conn, _mine(team_id, schema_id))

    async def list_extraction_schemas(
        self, team_id: str, *, include_archived: bool, limit: int, offset: int
    ) -> tuple[list[ExtractionSchema], int]:
        where: list[sa.ColumnElement[bool]] = [_schemas.c.team_id == team_id]
        if not include_archived:
            where.append(_schemas.c.archived.is_(False))
        async with self._db.read() as conn:
            total = (
                await conn.execute(sa.select(sa.func.count()).select_from(_schemas).where(*where))
            ).scalar_one()
            rows = list(
                await conn.execute(
                    _SCHEMA.where(*where)
                    .order_by(_schemas.c.updated.desc(), _schemas.c.id.desc())
                    .limit(limit)
                    .offset(offset)
                )
            )
            histories = await _histories(conn, [row._mapping[_schemas.c.id] for row in rows])
        items = [schema_from(row, histories[row._mapping[_schemas.c.id]]) for row in rows]
        return items, int(total)

    async def extraction_schema_version(
        self, team_id: str, schema_id: str, version: int
    ) -> ExtractionSchemaVersion | None:
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    sa.select(_versions)
                    .join(_schemas, _schemas.c.id == _versions.c.schema_pk)
                    .where(_mine(team_id, schema_id), _versions.c.version == version)
                )
            ).first()
        return None if row is None else schema_version_from(row)

    async def update_extraction_schema(
        self,
        team_id: str,
        schema_id: str,
        now: datetime,
        *,
        new_version: dict[str, Any] | None = None,
        **changes: Any,
    ) -> ExtractionSchema | None:
        unknown = set(changes) - UPDATABLE_EXTRACTION_SCHEMA_COLUMNS
        if unknown:
            raise ValueError(
                f"update_extraction_schema cannot set {', '.join(sorted(unknown))}; "
                f"only {', '.join(sorted(UPDATABLE_EXTRACTION_SCHEMA_COLUMNS))}"
            )
        at = to_db(now)
        mine = _mine(team_id, schema_id)
        async with self._db.write() as conn:
            # Lock the schema: two concurrent new versions must not pick the same number.
            current = (
                await conn.execute(
                    sa.select(_schemas.c.id, _schemas.c.description).where(mine).with_for_update()
                )
            ).first()
            if current is None:
                return None
            pk, description = current
            values: dict[str, Any] = {**changes, "updated": at}
            if new_version is not None:
                latest = (
                    await conn.execute(
                        sa.select(sa.func.max(_versions.c.version)).where(
                            _versions.c.schema_pk == pk
                        )
                    )
                ).scalar_one()
                version = (latest or 0) + 1
                await conn.execute(
                    sa.insert(_versions).values(
                        schema_pk=pk,
                        version=version,
                        schema_json=new_version,
                        description=changes.get("description", description),
                        created=at,
                    )
                )
                values["current_version"] = version
            await conn.execute(sa.update(_schemas).where(_schemas.c.id == pk).values(**values))
            return await _schema(conn, _schemas.c.id == pk)
