"""The extraction-schema catalog on SQL: saved schemas and their immutable versions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from pagemill.adapters.sql.database import Database, from_db, to_db
from pagemill.adapters.sql.ledger.versioned import VersionedTables
from pagemill.adapters.sql.tables import extraction_schema_versions, extraction_schemas
from pagemill.domain.extraction_schemas import (
    ExtractionSchema,
    ExtractionSchemaVersion,
    SchemaVersionSummary,
)
from pagemill.ports.ledger.catalog import ExtractionSchemaCatalog

SCHEMAS = VersionedTables(
    resources=extraction_schemas,
    versions=extraction_schema_versions,
    public_id="schema_id",
    resource_pk="schema_pk",
    payload="schema_json",
    updater="extraction_schemas.update",
    # The columns the updater may set; everything else is owned by the ledger.
    updatable=frozenset({"name", "description", "archived"}),
)
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


class SqlExtractionSchemaCatalog(ExtractionSchemaCatalog):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
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
            pk = await SCHEMAS.create(
                conn,
                team_id,
                schema_id,
                at,
                columns={"name": name, "description": description, "current_version": 1},
                payload=schema_json,
                description=description,
            )
            created = await _schema(conn, _schemas.c.id == pk)
        assert created is not None
        return created

    async def get(self, team_id: str, schema_id: str) -> ExtractionSchema | None:
        async with self._db.read() as conn:
            return await _schema(conn, SCHEMAS.mine(team_id, schema_id))

    async def page(
        self, team_id: str, *, include_archived: bool, limit: int, offset: int
    ) -> tuple[list[ExtractionSchema], int]:
        async with self._db.read() as conn:
            rows, total = await SCHEMAS.page(
                conn,
                _SCHEMA,
                team_id,
                include_archived=include_archived,
                limit=limit,
                offset=offset,
            )
            histories = await _histories(conn, [row._mapping[_schemas.c.id] for row in rows])
        items = [schema_from(row, histories[row._mapping[_schemas.c.id]]) for row in rows]
        return items, total

    async def version(
        self, team_id: str, schema_id: str, version: int
    ) -> ExtractionSchemaVersion | None:
        async with self._db.read() as conn:
            row = await SCHEMAS.version_row(conn, team_id, schema_id, version)
        return None if row is None else schema_version_from(row)

    async def update(
        self,
        team_id: str,
        schema_id: str,
        now: datetime,
        *,
        new_version: dict[str, Any] | None = None,
        **changes: Any,
    ) -> ExtractionSchema | None:
        SCHEMAS.check_updatable(changes)
        at = to_db(now)
        async with self._db.write() as conn:
            current = await SCHEMAS.lock(conn, team_id, schema_id, _schemas.c.description)
            if current is None:
                return None
            pk, description = current.id, current.description
            values: dict[str, Any] = dict(changes)
            if new_version is not None:
                version_description = changes.get("description", description)
                values["current_version"], _ = await SCHEMAS.add_version(
                    conn, pk, new_version, version_description, at
                )
            await SCHEMAS.touch(conn, pk, at, **values)
            return await _schema(conn, _schemas.c.id == pk)
