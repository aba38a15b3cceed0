"""Collections of a team's files, and batch runs of a pipeline over a collection (the API side;
``batch_admitter`` runs them)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pagemill.domain.batches import (
    BatchItem,
    BatchRun,
    Collection,
    NewBatchRun,
    check_collection_name,
    check_file_ids,
)
from pagemill.domain.clock import Clock
from pagemill.domain.errors import InvalidInput, NotFound
from pagemill.domain.eval_rubrics import EvalDefinition
from pagemill.domain.files import StoredFile
from pagemill.domain.page_ranges import parse_page_range
from pagemill.domain.pipelines import select_version
from pagemill.ports.ledger.batches import BatchRunLedger, CollectionLedger
from pagemill.ports.ledger.catalog import PipelineCatalog
from pagemill.services.executions import ExecutionService, check_output_format

# (team_id, eval_rubric_id) → the rubric's definition; None: the team has no such rubric.
RubricLookup = Callable[[str, int], Awaitable[EvalDefinition | None]]

RUN_OPTION_KEYS = ("page_range", "output_format", "skip_cache", "run_evals")


class BatchService:
    def __init__(
        self,
        collections: CollectionLedger,
        batch_runs: BatchRunLedger,
        pipelines: PipelineCatalog,
        executions: ExecutionService,
        clock: Clock,
        *,
        rubrics: RubricLookup | None = None,
    ) -> None:
        """``rubrics`` reads eval rubrics; without it a run's ``eval_rubric_id`` is recorded
        but no file is scored."""
        self._collections = collections
        self._runs = batch_runs
        self._pipelines = pipelines
        self._executions = executions
        self._clock = clock
        self.rubrics = rubrics

    # -- collections -------------------------------------------------------------------------
    async def create_collection(
        self, team_id: str, name: str, description: str | None
    ) -> Collection:
        return await self._collections.create(
            team_id, check_collection_name(name), description, self._clock.now()
        )

    async def get_collection(self, team_id: str, collection_id: int) -> Collection:
        found = await self._collections.get(collection_id, team_id)
        if found is None:
            raise NotFound(f"Collection {collection_id} not found")
        return found

    async def list_collections(
        self, team_id: str, *, limit: int, offset: int
    ) -> tuple[list[Collection], int]:
        return await self._collections.page(team_id, limit=limit, offset=offset)

    async def delete_collection(self, team_id: str, collection_id: int) -> None:
        if not await self._collections.delete(collection_id, team_id):
            raise NotFound(f"Collection {collection_id} not found")

    async def add_files(self, team_id: str, collection_id: int, file_ids: list[int]) -> int:
        """Link files of the team; all or none: an unknown id is a 404 naming it."""
        result = await self._collections.add_files(
            collection_id, team_id, check_file_ids(file_ids), self._clock.now()
        )
        if result is None:
            raise NotFound(f"Collection {collection_id} not found")
        added, unknown = result
        if unknown:
            shown = ", ".join(str(i) for i in unknown[:10])
            raise NotFound(f"File(s) not found: {shown}{' …' if len(unknown) > 10 else ''}")
        return added

    async def remove_files(self, team_id: str, collection_id: int, file_ids: list[int]) -> int:
        removed = await self._collections.remove_files(
            collection_id, team_id, check_file_ids(file_ids), self._clock.now()
        )
        if removed is None:
            raise NotFound(f"Collection {collection_id} not found")
        return removed

    async def collection_files(
        self, team_id: str, collection_id: int, *, limit: int, offset: int
    ) -> tuple[list[StoredFile], int]:
        found = await self._collections.files(collection_id, team_id, limit=limit, offset=offset)
        if found is None:
            raise NotFound(f"Collection {collection_id} not found")
        return found

    # -- batch runs --------------------------------------------------------------------------
    async def start(
        self,
        team_id: str,
        collection_id: int,
        pipeline_id: str,
        *,
        version: int | None = None,
        eval_rubric_id: int | None = None,
        options: dict[str, Any] | None = None,
    ) -> BatchRun:
        """Pin the pipeline's version, copy the collection's uploaded files as the run's items;
        the admitter starts their executions."""
        options = {k: v for k, v in (options or {}).items() if v is not None}
        unknown = set(options) - set(RUN_OPTION_KEYS)
        if unknown:
            raise InvalidInput(f"Unknown run option(s): {', '.join(sorted(unknown))}.")
        if isinstance(options.get("page_range"), str):
            parse_page_range(options["page_range"])
        if isinstance(options.get("output_format"), str):
            check_output_format(options["output_format"])
        pipeline = await self._executions.runnable_pipeline(team_id, pipeline_id)
        published = (
            [v.version for v in await self._pipelines.versions(pipeline.pk)] if version else []
        )
        pinned = select_version(version, pipeline.active_version, published)
        if (
            eval_rubric_id is not None
            and self.rubrics is not None
            and await self.rubrics(team_id, eval_rubric_id) is None
        ):
            raise NotFound(f"Eval rubric {eval_rubric_id} not found")
        new = NewBatchRun(
            team_id, collection_id, pipeline.pipeline_id, pinned, eval_rubric_id, options
        )
        run = await self._runs.create(new, self._clock.now())
        if run is None:
            raise NotFound(f"Collection {collection_id} not found")
        return run

    async def get_run(self, team_id: str, run_id: int) -> BatchRun:
        run = await self._runs.get(run_id, team_id)
        if run is None:
            raise NotFound(f"Batch run {run_id} not found")
        return run

    async def list_runs(
        self, team_id: str, filters: dict[str, Any], *, limit: int, offset: int
    ) -> tuple[list[BatchRun], int]:
        return await self._runs.page(team_id, filters, limit=limit, offset=offset)

    async def results(
        self, team_id: str, run_id: int, *, limit: int, offset: int
    ) -> tuple[BatchRun, list[BatchItem], int]:
        run = await self.get_run(team_id, run_id)
        found = await self._runs.items(run_id, team_id, limit=limit, offset=offset)
        if found is None:  # deleted between the two reads
            raise NotFound(f"Batch run {run_id} not found")
        return run, *found

    async def cancel(self, team_id: str, run_id: int) -> BatchRun:
        """Pending files are not started; running executions are cancelled by the admitter."""
        run = await self._runs.cancel(run_id, team_id, self._clock.now())
        if run is None:
            raise NotFound(f"Batch run {run_id} not found")
        return run
