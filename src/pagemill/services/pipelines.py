"""Pipeline definitions: drafts, saving, archiving, published versions and rates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pagemill.domain.clock import Clock
from pagemill.domain.errors import Conflict, InvalidInput, NotFound
from pagemill.domain.ids import new_pipeline_id
from pagemill.domain.models import Pipeline, PipelineVersion
from pagemill.domain.pipelines import default_pipeline_name, parse_steps
from pagemill.domain.rates import pipeline_rate
from pagemill.ports.ledger.catalog import PipelineCatalog
from pagemill.processors.registry import ProcessorRegistry
from pagemill.services.custom_processors import CustomProcessorService
from pagemill.services.eval_rubrics import EvalRubricService
from pagemill.services.extraction_schemas import ExtractionSchemaService

MAX_NAME = 120
MAX_DESCRIPTION = 500


class PipelineService:
    def __init__(
        self,
        pipelines: PipelineCatalog,
        processors: ProcessorRegistry,
        clock: Clock,
        rates: Mapping[str, int],
        custom_processors: CustomProcessorService,
        extraction_schemas: ExtractionSchemaService,
        eval_rubrics: EvalRubricService | None = None,
    ) -> None:
        self._pipelines = pipelines
        self._processors = processors
        self._clock = clock
        self._rates = dict(rates)
        self._custom_processors = custom_processors
        self._extraction_schemas = extraction_schemas
        self._eval_rubrics = eval_rubrics

    def check_steps(self, steps: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Composition rules, then availability and settings of each processor."""
        parsed = parse_steps(steps)
        self._processors.check_steps([(s.type, s.settings) for s in parsed])
        return [dict(s.raw) for s in parsed]

    async def check(self, team_id: str, steps: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Every check a create or an update runs, with nothing written (the dashboard's step
        editor checks as the user types)."""
        return await self._checked(team_id, steps)

    async def _checked(
        self, team_id: str, steps: Sequence[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        """``check_steps``, then: every custom step references a usable processor of the team,
        every extract step's ``schema_id`` a usable extraction schema of the team, every
        ``eval_rubric_id`` a usable eval rubric of the team."""
        checked = self.check_steps(steps)
        parsed = parse_steps(checked)
        await self._custom_processors.check_steps(team_id, parsed)
        await self._extraction_schemas.check_steps(team_id, parsed)
        if self._eval_rubrics is not None:
            await self._eval_rubrics.check_steps(team_id, parsed)
        return checked

    async def create(self, team_id: str, steps: Sequence[Mapping[str, Any]]) -> Pipeline:
        checked = await self._checked(team_id, steps)
        return await self._pipelines.create(team_id, new_pipeline_id(), checked, self._clock.now())

    async def get(self, team_id: str, pipeline_id: str) -> Pipeline:
        pipeline = await self._pipelines.get(team_id, pipeline_id)
        if pipeline is None:
            raise NotFound(f"Pipeline {pipeline_id} not found")
        return pipeline

    async def list_pipelines(
        self, team_id: str, *, saved_only: bool, include_archived: bool, limit: int, offset: int
    ) -> tuple[list[Pipeline], int]:
        return await self._pipelines.page(
            team_id,
            saved_only=saved_only,
            include_archived=include_archived,
            limit=limit,
            offset=offset,
        )

    async def update_steps(
        self, team_id: str, pipeline_id: str, steps: Sequence[Mapping[str, Any]]
    ) -> Pipeline:
        checked = await self._checked(team_id, steps)
        return await self._change(team_id, pipeline_id, steps=checked)

    async def save(self, team_id: str, pipeline_id: str, name: str) -> Pipeline:
        clean = name.strip()
        if len(clean) > MAX_NAME:
            raise InvalidInput(f"name has at most {MAX_NAME} characters.")
        return await self._change(
            team_id, pipeline_id, name=clean or default_pipeline_name(pipeline_id), is_saved=True
        )

    async def set_archived(self, team_id: str, pipeline_id: str, archived: bool) -> Pipeline:
        return await self._change(team_id, pipeline_id, archived=archived)

    async def publish(
        self, team_id: str, pipeline_id: str, description: str | None
    ) -> PipelineVersion:
        if description is not None and len(description) > MAX_DESCRIPTION:
            raise InvalidInput(f"description has at most {MAX_DESCRIPTION} characters.")
        pipeline = await self.get(team_id, pipeline_id)
        # The draft was checked when written, but the server may have lost a processor since
        # (or a custom processor or extraction schema it references may have been archived).
        await self._checked(team_id, pipeline.steps)
        version = await self._pipelines.publish_version(
            team_id, pipeline_id, description, self._clock.now()
        )
        if version is None:
            raise NotFound(f"Pipeline {pipeline_id} not found")
        return version

    async def versions(self, team_id: str, pipeline_id: str) -> list[PipelineVersion]:
        pipeline = await self.get(team_id, pipeline_id)
        return await self._pipelines.versions(pipeline.pk)

    async def discard_draft(self, team_id: str, pipeline_id: str, version: int | None) -> Pipeline:
        pipeline = await self.get(team_id, pipeline_id)
        target = version if version is not None else pipeline.active_version
        if target < 1:
            raise Conflict(
                f"Pipeline {pipeline_id} has no published version to reset the draft to."
            )
        published = {v.version: v for v in await self._pipelines.versions(pipeline.pk)}
        if target not in published:
            raise NotFound(f"Pipeline version {target} not found")
        return await self._change(team_id, pipeline_id, steps=published[target].steps)

    async def rate(self, team_id: str, pipeline_id: str) -> dict[str, Any]:
        pipeline = await self.get(team_id, pipeline_id)
        steps = pipeline.steps
        if pipeline.active_version:
            published = {v.version: v for v in await self._pipelines.versions(pipeline.pk)}
            if pipeline.active_version in published:
                steps = published[pipeline.active_version].steps
        answer = pipeline_rate([str(s.get("type")) for s in steps], self._rates)
        answer["pipeline_id"] = pipeline_id
        answer["version"] = pipeline.active_version
        return answer

    async def _change(self, team_id: str, pipeline_id: str, **changes: Any) -> Pipeline:
        pipeline = await self._pipelines.update(team_id, pipeline_id, self._clock.now(), **changes)
        if pipeline is None:
            raise NotFound(f"Pipeline {pipeline_id} not found")
        return pipeline
