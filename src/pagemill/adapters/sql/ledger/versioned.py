"""The store of versioned team resources on SQL, one instance per kind.

Each kind is a resource table and a table of its immutable, numbered versions (``tables``);
``VersionedTables`` names the columns in which the kinds differ, and ``SqlVersionedStore`` is
the same SQL for all of them: ownership, the listing, version 1 on creation, max+1 under a lock
for later ones, and reads that carry the current version's payload and the history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from pagemill.adapters.sql.database import Database, from_db, to_db
from pagemill.adapters.sql.ledger.listing import newest_first
from pagemill.adapters.sql.tables import (
    custom_processor_versions,
    custom_processors,
    eval_rubric_versions,
    eval_rubrics,
    extraction_schema_versions,
    extraction_schemas,
)
from pagemill.domain.versioned import ResourceVersion, VersionedResource, VersionSummary
from pagemill.ports.ledger.catalog import VersionedStore

_ALWAYS_UPDATABLE = frozenset({"name", "archived", "current_version"})


@dataclass(frozen=True, slots=True)
class VersionedTables:
    """A kind's resource table and version table, and the column names that differ."""

    resources: sa.Table
    versions: sa.Table
    public_id: str  # the resource column of the public id, e.g. ``processor_id``
    current: str  # the resource column of the current version, e.g. ``active_version``
    resource_pk: str  # the version column referencing ``resources.id``
    payload: str  # the version column of what is versioned, e.g. ``definition``

    @property
    def described(self) -> bool:
        """Whether the resources keep a description of their own."""
        return "description" in self.resources.c

    @property
    def updatable(self) -> frozenset[str]:
        """What ``update`` may set (by the port's names); the rest is owned by the ledger."""
        return _ALWAYS_UPDATABLE | {"description"} if self.described else _ALWAYS_UPDATABLE

    def columns(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """``changes`` by column name; ``ValueError`` for anything ``update`` may not set."""
        unknown = set(changes) - self.updatable
        if unknown:
            raise ValueError(
                f"{self.resources.name}.update cannot set {', '.join(sorted(unknown))}; "
                f"only {', '.join(sorted(self.updatable))}"
            )
        return {self.current if k == "current_version" else k: v for k, v in changes.items()}


CUSTOM_PROCESSOR_TABLES = VersionedTables(
    resources=custom_processors,
    versions=custom_processor_versions,
    public_id="processor_id",
    current="active_version",
    resource_pk="processor_pk",
    payload="definition",
)
EXTRACTION_SCHEMA_TABLES = VersionedTables(
    resources=extraction_schemas,
    versions=extraction_schema_versions,
    public_id="schema_id",
    current="current_version",
    resource_pk="schema_pk",
    payload="schema_json",
)

EVAL_RUBRIC_TABLES = VersionedTables(
    resources=eval_rubrics,
    versions=eval_rubric_versions,
    public_id="rubric_id",
    current="current_version",
    resource_pk="rubric_pk",
    payload="eval_definition",
)


class SqlVersionedStore(VersionedStore):
    def __init__(self, db: Database, tables: VersionedTables) -> None:
        self._db = db
        self._t = tables
        resources, versions = tables.resources, tables.versions
        self._version_of = versions.c[tables.resource_pk]
        # A resource with the payload of its current version.
        self._resource = sa.select(resources, versions.c[tables.payload]).join(
            versions,
            (self._version_of == resources.c.id)
            & (versions.c.version == resources.c[tables.current]),
        )
        self._history = sa.select(
            self._version_of, versions.c.version, versions.c.description, versions.c.created
        )

    # -- reads -------------------------------------------------------------------------------
    async def get(self, team_id: str, public_id: str) -> VersionedResource | None:
        async with self._db.read() as conn:
            return await self._one(conn, self._mine(team_id, public_id))

    async def page(
        self, team_id: str, *, include_archived: bool, limit: int, offset: int
    ) -> tuple[list[VersionedResource], int]:
        resources = self._t.resources
        where: list[sa.ColumnElement[bool]] = [resources.c.team_id == team_id]
        if not include_archived:
            where.append(resources.c.archived.is_(False))
        async with self._db.read() as conn:
            rows, total = await newest_first(
                conn, where, resources.c.updated, limit=limit, offset=offset, query=self._resource
            )
            histories = await self._histories(conn, [row._mapping[resources.c.id] for row in rows])
        items = [self._from(row, histories[row._mapping[resources.c.id]]) for row in rows]
        return items, total

    async def versions(self, team_id: str, public_id: str) -> list[ResourceVersion]:
        newest_first = self._versions(team_id, public_id).order_by(
            self._t.versions.c.version.desc()
        )
        async with self._db.read() as conn:
            return [self._version_from(row) for row in await conn.execute(newest_first)]

    async def version(self, team_id: str, public_id: str, version: int) -> ResourceVersion | None:
        numbered = self._versions(team_id, public_id).where(self._t.versions.c.version == version)
        row = await self._db.fetch_one(numbered)
        return None if row is None else self._version_from(row)

    # -- writes ------------------------------------------------------------------------------
    async def create(
        self,
        team_id: str,
        public_id: str,
        name: str,
        payload: dict[str, Any],
        description: str | None,
        now: datetime,
    ) -> VersionedResource:
        at = to_db(now)
        values: dict[str, Any] = {
            self._t.public_id: public_id,
            "team_id": team_id,
            "name": name,
            self._t.current: 1,
            "archived": False,
            "created": at,
            "updated": at,
        }
        if self._t.described:
            values["description"] = description
        async with self._db.write() as conn:
            result = await conn.execute(sa.insert(self._t.resources).values(values))
            assert result.inserted_primary_key is not None
            pk = int(result.inserted_primary_key[0])
            await self._insert_version(conn, pk, 1, payload, description, at)
            created = await self._one(conn, self._t.resources.c.id == pk)
        assert created is not None
        return created

    async def add_version(
        self,
        team_id: str,
        public_id: str,
        payload: dict[str, Any],
        now: datetime,
        *,
        version_description: str | None = None,
        make_current: bool = True,
        **changes: Any,
    ) -> VersionedResource | None:
        columns = self._t.columns(changes)
        at = to_db(now)
        resources = self._t.resources
        own_description = [resources.c.description] if self._t.described else []
        # Locked: two concurrent new versions must not pick the same number.
        locking = sa.select(resources.c.id, *own_description).where(self._mine(team_id, public_id))
        async with self._db.write() as conn:
            locked = (await conn.execute(locking.with_for_update())).first()
            if locked is None:
                return None
            pk = locked.id
            description = version_description
            if description is None and self._t.described:
                description = changes.get("description", locked.description)
            latest = sa.select(sa.func.max(self._t.versions.c.version)).where(
                self._version_of == pk
            )
            version = int((await conn.execute(latest)).scalar_one() or 0) + 1
            await self._insert_version(conn, pk, version, payload, description, at)
            values = {**columns, self._t.current: version} if make_current else columns
            await conn.execute(
                sa.update(resources).where(resources.c.id == pk).values(**values, updated=at)
            )
            return await self._one(conn, resources.c.id == pk)

    async def update(
        self, team_id: str, public_id: str, now: datetime, **changes: Any
    ) -> VersionedResource | None:
        columns = self._t.columns(changes)
        mine = self._mine(team_id, public_id)
        async with self._db.write() as conn:
            result = await conn.execute(
                sa.update(self._t.resources).where(mine).values(**columns, updated=to_db(now))
            )
            if result.rowcount != 1:
                return None
            return await self._one(conn, mine)

    # -- helpers -----------------------------------------------------------------------------
    def _mine(self, team_id: str, public_id: str) -> sa.ColumnElement[bool]:
        resources = self._t.resources
        return (resources.c[self._t.public_id] == public_id) & (resources.c.team_id == team_id)

    def _versions(self, team_id: str, public_id: str) -> sa.Select[Any]:
        """The versions of the team's resource ``public_id`` (none if it is not the team's)."""
        resources = self._t.resources
        return (
            sa.select(self._t.versions)
            .join(resources, resources.c.id == self._version_of)
            .where(self._mine(team_id, public_id))
        )

    async def _one(
        self, conn: AsyncConnection, where: sa.ColumnElement[bool]
    ) -> VersionedResource | None:
        row = (await conn.execute(self._resource.where(where))).first()
        if row is None:
            return None
        pk = row._mapping[self._t.resources.c.id]
        return self._from(row, (await self._histories(conn, [pk]))[pk])

    async def _histories(
        self, conn: AsyncConnection, pks: Sequence[int]
    ) -> dict[int, list[VersionSummary]]:
        """The history of each resource, newest first (one query for a whole page)."""
        found: dict[int, list[VersionSummary]] = {pk: [] for pk in pks}
        if not pks:
            return found
        versions = self._t.versions
        rows = await conn.execute(
            self._history.where(self._version_of.in_(pks)).order_by(
                self._version_of, versions.c.version.desc()
            )
        )
        for row in rows:
            m = row._mapping
            summary = VersionSummary(
                version=m[versions.c.version],
                description=m[versions.c.description],
                created=from_db(m[versions.c.created]),
            )
            found[m[self._version_of]].append(summary)
        return found

    async def _insert_version(
        self,
        conn: AsyncConnection,
        pk: int,
        version: int,
        payload: dict[str, Any],
        description: str | None,
        at: datetime,
    ) -> None:
        await conn.execute(
            sa.insert(self._t.versions).values(
                {
                    self._t.resource_pk: pk,
                    "version": version,
                    self._t.payload: payload,
                    "description": description,
                    "created": at,
                }
            )
        )

    def _from(self, row: sa.Row[Any], history: Sequence[VersionSummary]) -> VersionedResource:
        m = row._mapping
        resources = self._t.resources
        return VersionedResource(
            pk=m[resources.c.id],
            public_id=m[resources.c[self._t.public_id]],
            team_id=m[resources.c.team_id],
            name=m[resources.c.name],
            description=m[resources.c.description] if self._t.described else None,
            current_version=m[resources.c[self._t.current]],
            payload=dict(m[self._t.versions.c[self._t.payload]]),
            archived=bool(m[resources.c.archived]),
            created=from_db(m[resources.c.created]),
            updated=from_db(m[resources.c.updated]),
            history=tuple(history),
        )

    def _version_from(self, row: sa.Row[Any]) -> ResourceVersion:
        m = row._mapping
        versions = self._t.versions
        return ResourceVersion(
            pk=m[versions.c.id],
            resource_pk=m[self._version_of],
            version=m[versions.c.version],
            payload=dict(m[versions.c[self._t.payload]]),
            description=m[versions.c.description],
            created=from_db(m[versions.c.created]),
        )
