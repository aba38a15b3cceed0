"""The pipeline catalog on SQL: drafts, listings and published versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pagemill.adapters.sql.database import Database, from_db, to_db
from pagemill.adapters.sql.ledger.listing import newest_first
from pagemill.adapters.sql.tables import pipeline_versions, pipelines
from pagemill.domain.ids import new_public_number
from pagemill.domain.models import Pipeline, PipelineVersion
from pagemill.ports.ledger.catalog import PipelineCatalog


def pipeline_from(row: sa.Row[Any]) -> Pipeline:
    m = row._mapping
    return Pipeline(
        pk=m[pipelines.c.id],
        pipeline_id=m[pipelines.c.pipeline_id],
        team_id=m[pipelines.c.team_id],
        name=m[pipelines.c.name],
        steps=list(m[pipelines.c.steps]),
        is_saved=bool(m[pipelines.c.is_saved]),
        archived=bool(m[pipelines.c.archived]),
        active_version=m[pipelines.c.active_version],
        created=from_db(m[pipelines.c.created]),
        updated=from_db(m[pipelines.c.updated]),
        retention_seconds=m[pipelines.c.retention_seconds],
    )


def version_from(row: sa.Row[Any]) -> PipelineVersion:
    m = row._mapping
    return PipelineVersion(
        pk=m[pipeline_versions.c.id],
        pipeline_pk=m[pipeline_versions.c.pipeline_pk],
        version=m[pipeline_versions.c.version],
        steps=list(m[pipeline_versions.c.steps]),
        description=m[pipeline_versions.c.description],
        created=from_db(m[pipeline_versions.c.created]),
    )


# The columns ``update`` may set; everything else is owned by the ledger.
UPDATABLE_PIPELINE_COLUMNS = frozenset(
    {"steps", "name", "is_saved", "archived", "retention_seconds"}
)

# Prebuilt, one statement each: every run reads its pipeline (and its version when published).
_PIPELINE = sa.select(pipelines).where(
    pipelines.c.pipeline_id == sa.bindparam("pipeline_id"),
    pipelines.c.team_id == sa.bindparam("team_id"),
)
_VERSIONS = (
    sa.select(pipeline_versions)
    .where(pipeline_versions.c.pipeline_pk == sa.bindparam("pipeline_pk"))
    .order_by(pipeline_versions.c.version.desc())
)


class SqlPipelineCatalog(PipelineCatalog):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self, team_id: str, pipeline_id: str, steps: list[dict[str, Any]], now: datetime
    ) -> Pipeline:
        async with self._db.write() as conn:
            result = await conn.execute(
                sa.insert(pipelines).values(
                    id=new_public_number(),
                    pipeline_id=pipeline_id,
                    team_id=team_id,
                    name=None,
                    steps=steps,
                    is_saved=False,
                    archived=False,
                    active_version=0,
                    created=to_db(now),
                    updated=to_db(now),
                )
            )
            pk = result.inserted_primary_key
            assert pk is not None
            row = (await conn.execute(sa.select(pipelines).where(pipelines.c.id == pk[0]))).one()
        return pipeline_from(row)

    async def get(self, team_id: str, pipeline_id: str) -> Pipeline | None:
        rows = await self._db.point_read(
            _PIPELINE, {"pipeline_id": pipeline_id, "team_id": team_id}
        )
        return pipeline_from(rows[0]) if rows else None

    async def page(
        self, team_id: str, *, saved_only: bool, include_archived: bool, limit: int, offset: int
    ) -> tuple[list[Pipeline], int]:
        where: list[sa.ColumnElement[bool]] = [pipelines.c.team_id == team_id]
        if saved_only:
            where.append(pipelines.c.is_saved.is_(True))
        if not include_archived:
            where.append(pipelines.c.archived.is_(False))
        async with self._db.read() as conn:
            rows, total = await newest_first(
                conn, where, pipelines.c.updated, limit=limit, offset=offset
            )
        return [pipeline_from(row) for row in rows], total

    async def update(
        self, team_id: str, pipeline_id: str, now: datetime, **changes: Any
    ) -> Pipeline | None:
        unknown = set(changes) - UPDATABLE_PIPELINE_COLUMNS
        if unknown:
            raise ValueError(
                f"pipelines.update cannot set {', '.join(sorted(unknown))}; "
                f"only {', '.join(sorted(UPDATABLE_PIPELINE_COLUMNS))}"
            )
        mine = (pipelines.c.pipeline_id == pipeline_id) & (pipelines.c.team_id == team_id)
        async with self._db.write() as conn:
            result = await conn.execute(
                sa.update(pipelines).where(mine).values(**changes, updated=to_db(now))
            )
            if result.rowcount != 1:
                return None
            row = (await conn.execute(sa.select(pipelines).where(mine))).one()
        return pipeline_from(row)

    async def publish_version(
        self, team_id: str, pipeline_id: str, description: str | None, now: datetime
    ) -> PipelineVersion | None:
        async with self._db.write() as conn:
            # Lock the draft: two concurrent publishes must not both pick the same number.
            draft = (
                await conn.execute(
                    sa.select(pipelines.c.id, pipelines.c.steps)
                    .where(pipelines.c.pipeline_id == pipeline_id, pipelines.c.team_id == team_id)
                    .with_for_update()
                )
            ).first()
            if draft is None:
                return None
            pk, steps = draft
            latest = (
                await conn.execute(
                    sa.select(sa.func.max(pipeline_versions.c.version)).where(
                        pipeline_versions.c.pipeline_pk == pk
                    )
                )
            ).scalar_one()
            version = (latest or 0) + 1
            result = await conn.execute(
                sa.insert(pipeline_versions).values(
                    id=new_public_number(),
                    pipeline_pk=pk,
                    version=version,
                    steps=steps,
                    description=description,
                    created=to_db(now),
                )
            )
            inserted = result.inserted_primary_key
            assert inserted is not None
            await conn.execute(
                sa.update(pipelines)
                .where(pipelines.c.id == pk)
                .values(active_version=version, updated=to_db(now))
            )
            row = (
                await conn.execute(
                    sa.select(pipeline_versions).where(pipeline_versions.c.id == inserted[0])
                )
            ).one()
        return version_from(row)

    async def versions(self, pipeline_pk: int) -> list[PipelineVersion]:
        rows = await self._db.point_read(_VERSIONS, {"pipeline_pk": pipeline_pk})
        return [version_from(row) for row in rows]
