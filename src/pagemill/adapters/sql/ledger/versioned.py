"""What the SQL ledger does alike for every versioned, team-owned resource.

Custom processors and extraction schemas are each a row with a public id, owned by one team,
plus immutable numbered versions in a second table. The SQL for ownership, the listing,
creating with version 1 and numbering later versions is the same for both; the row → domain
mapping and what "current" means stay with each kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True, slots=True)
class VersionedTables:
    """A resource table and its version table, and the names that differ between kinds."""

    resources: sa.Table
    versions: sa.Table
    public_id: str  # the resource column of the public id, e.g. ``processor_id``
    resource_pk: str  # the version column referencing ``resources.id``
    payload: str  # the version column of what is versioned, e.g. ``definition``
    updater: str  # the ledger method that takes ``updatable`` columns (for its error)
    updatable: frozenset[str]

    @property
    def version_of(self) -> sa.Column[Any]:
        return self.versions.c[self.resource_pk]

    def mine(self, team_id: str, public_id: str) -> sa.ColumnElement[bool]:
        return (self.resources.c[self.public_id] == public_id) & (
            self.resources.c.team_id == team_id
        )

    def check_updatable(self, changes: Mapping[str, Any]) -> None:
        unknown = set(changes) - self.updatable
        if unknown:
            raise ValueError(
                f"{self.updater} cannot set {', '.join(sorted(unknown))}; "
                f"only {', '.join(sorted(self.updatable))}"
            )

    def version_select(self, team_id: str, public_id: str) -> sa.Select[Any]:
        """The versions of the team's resource ``public_id`` (none if it is not the team's)."""
        return (
            sa.select(self.versions)
            .join(self.resources, self.resources.c.id == self.version_of)
            .where(self.mine(team_id, public_id))
        )

    async def version_row(
        self, conn: AsyncConnection, team_id: str, public_id: str, version: int
    ) -> sa.Row[Any] | None:
        numbered = self.version_select(team_id, public_id).where(self.versions.c.version == version)
        row: sa.Row[Any] | None = (await conn.execute(numbered)).first()
        return row

    async def create(
        self,
        conn: AsyncConnection,
        team_id: str,
        public_id: str,
        at: datetime,
        *,
        columns: Mapping[str, Any],
        payload: dict[str, Any],
        description: str | None,
    ) -> int:
        """Insert the resource (unarchived, with ``columns``) and ``payload`` as its version 1
        (with ``description``); the resource's ``id``."""
        values = {"team_id": team_id, "archived": False, "created": at, "updated": at}
        result = await conn.execute(
            sa.insert(self.resources).values({self.public_id: public_id, **values, **columns})
        )
        pk = result.inserted_primary_key
        assert pk is not None
        await self._insert_version(conn, pk[0], 1, payload, description, at)
        return int(pk[0])

    async def page(
        self,
        conn: AsyncConnection,
        select: sa.Select[Any],
        team_id: str,
        *,
        include_archived: bool,
        limit: int,
        offset: int,
    ) -> tuple[list[sa.Row[Any]], int]:
        """One page of the team's resources, most recently updated first, and their count."""
        where: list[sa.ColumnElement[bool]] = [self.resources.c.team_id == team_id]
        if not include_archived:
            where.append(self.resources.c.archived.is_(False))
        count = sa.select(sa.func.count()).select_from(self.resources).where(*where)
        total = (await conn.execute(count)).scalar_one()
        rows = await conn.execute(
            select.where(*where)
            .order_by(self.resources.c.updated.desc(), self.resources.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return list(rows), int(total)

    async def lock(
        self, conn: AsyncConnection, team_id: str, public_id: str, *columns: sa.Column[Any]
    ) -> sa.Row[Any] | None:
        """The resource's ``id`` (and ``columns``), locked until the transaction ends.

        Lock before ``add_version``: two concurrent ones must not pick the same number.
        """
        locking = sa.select(self.resources.c.id, *columns).where(self.mine(team_id, public_id))
        return (await conn.execute(locking.with_for_update())).first()

    async def add_version(
        self,
        conn: AsyncConnection,
        pk: int,
        payload: dict[str, Any],
        description: str | None,
        at: datetime,
    ) -> tuple[int, int]:
        """Store ``payload`` as version max+1 of the locked resource ``pk``: (number, row id)."""
        latest_query = sa.select(sa.func.max(self.versions.c.version)).where(self.version_of == pk)
        version = int((await conn.execute(latest_query)).scalar_one() or 0) + 1
        return version, await self._insert_version(conn, pk, version, payload, description, at)

    async def touch(self, conn: AsyncConnection, pk: int, at: datetime, **changes: Any) -> None:
        """Set ``changes`` and ``updated`` on the resource ``pk``."""
        update = sa.update(self.resources).where(self.resources.c.id == pk)
        await conn.execute(update.values(**changes, updated=at))

    async def _insert_version(
        self,
        conn: AsyncConnection,
        pk: int,
        version: int,
        payload: dict[str, Any],
        description: str | None,
        at: datetime,
    ) -> int:
        values = {"version": version, "description": description, "created": at}
        result = await conn.execute(
            sa.insert(self.versions).values({self.resource_pk: pk, self.payload: payload, **values})
        )
        inserted = result.inserted_primary_key
        assert inserted is not None
        return int(inserted[0])
