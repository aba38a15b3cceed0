"""The pipeline half of the SQL ledger: drafts, listings and published versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pagemill.adapters.sql.engine import Database, to_db
from pagemill.adapters.sql.ledger_rows import pipeline_from, version_from
from pagemill.adapters.sql.tables import pipeline_versions, pipelines
from pagemill.domain.ids import new_public_number
from pagemill.domain.models import Pipeline, PipelineVersion

# The columns ``update_pipeline`` may set; everything else is owned by the ledger.
UPDATABLE_PIPELINE_COLUMNS = frozenset({"steps", "name", "is_saved", "archived"})

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


class PipelineMethods:
    _db: Database

    async def create_pipeline(
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

    async def pipeline(self, team_id: str, pipeline_id: str) -> Pipeline | None:
        rows = await self._db.point_read(
            _PIPELINE, {"pipeline_id": pipeline_id, "team_id": team_id}
        )
        return pipeline_from(rows[0]) if rows else None

    async def list_pipelines(
        self, team_id: str, *, saved_only: bool, include_archived: bool, limit: int, offset: int
    ) -> tuple[list[Pipeline], int]:
        where: list[sa.ColumnElement[bool]] = [pipelines.c.team_id == team_id]
        if saved_only:
            where.append(pipelines.c.is_saved.is_(True))
        if not include_archived:
            where.append(pipelines.c.archived.is_(False))
        async with self._db.read() as conn:
            total = (
                await conn.execute(sa.select(sa.func.count()).select_from(pipelines).where(*where))
            ).scalar_one()
            rows = await conn.execute(
                sa.select(pipelines)
                .where(*where)
                .order_by(pipelines.c.updated.desc(), pipelines.c.id.desc())
                .limit(limit)
                .offset(offset)
            )
            items = [pipeline_from(row) for row in rows]
        return items, int(total)

    async def update_pipeline(
        self, team_id: str, pipeline_id: str, now: datetime, **changes: Any
    ) -> Pipeline | None:
        unknown = set(changes) - UPDATABLE_PIPELINE_COLUMNS
        if unknown:
            raise ValueError(
                f"update_pipeline cannot set {', '.join(sorted(unknown))}; "
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
