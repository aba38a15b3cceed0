"""What a run would cost and how long it would take, before it is submitted.

Pages: counted from the document exactly as admission control counts them at submit (the
run's ``page_range``, else the convert step's, else its ``max_pages``), or taken from the
caller's page count narrowed the same way. Cost: the rate table, as the execution's
``rate_breakdown`` will bill it when every step completes. Duration: the recent completed
executions of the same pipeline version on this deployment — their processing seconds per page
and their wait in the queue, at p50 and p95 — and the steps queued right now.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pagemill.domain.errors import InvalidInput, NotFound
from pagemill.domain.models import ExecutionSnapshot, Pipeline
from pagemill.domain.page_ranges import parse_page_range, select_pages
from pagemill.domain.pipelines import StepSpec, parse_steps, select_version
from pagemill.domain.rates import execution_rate_breakdown
from pagemill.domain.statuses import ExecutionStatus
from pagemill.ports.ledger.catalog import PipelineCatalog
from pagemill.ports.ledger.executions import ExecutionLedger
from pagemill.ports.ledger.steps import StepLedger
from pagemill.services.admission import Admission

HISTORY = 100  # recent executions of the pipeline looked at
MAX_PAGE_COUNT = 1_000_000


@dataclass(frozen=True, slots=True)
class EstimateRequest:
    version: int | None = None
    page_range: str | None = None
    page_count: int | None = None  # the document's pages, when no document is sent
    document_key: str | None = None  # a stored document to count the pages of


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile (None without values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


class EstimateService:
    def __init__(
        self,
        pipelines: PipelineCatalog,
        executions: ExecutionLedger,
        steps: StepLedger,
        admission: Admission | None,
        rates: Mapping[str, int],
    ) -> None:
        self._pipelines = pipelines
        self._executions = executions
        self._steps = steps
        self._admission = admission
        self._rates = dict(rates)

    async def check_pipeline(self, team_id: str, pipeline_id: str) -> Pipeline:
        """The team's pipeline; ``NotFound`` for any other."""
        pipeline = await self._pipelines.get(team_id, pipeline_id)
        if pipeline is None:
            raise NotFound(f"Pipeline {pipeline_id} not found")
        return pipeline

    async def estimate(
        self, team_id: str, pipeline_id: str, request: EstimateRequest
    ) -> dict[str, Any]:
        pipeline = await self.check_pipeline(team_id, pipeline_id)
        if request.page_range is not None:
            parse_page_range(request.page_range)
        version, steps = await self._steps_of(pipeline, request.version)
        pages = await self._pages(steps, request)
        types = [s.type for s in steps]
        cost = execution_rate_breakdown(types, [True] * len(types), pages, self._rates)
        recent = await self._recent(team_id, pipeline_id, version)
        queued = await self._steps.queue_depth()
        return {
            "pipeline_id": pipeline_id,
            "pipeline_version": version,
            "page_count": pages,
            "cost": cost,
            "duration": _duration(pages, recent, queued, types),
        }

    async def _steps_of(
        self, pipeline: Pipeline, requested: int | None
    ) -> tuple[int, list[StepSpec]]:
        wanted = pipeline.active_version if requested is None else requested
        versions = await self._pipelines.versions(pipeline.pk) if wanted > 0 else []
        version = select_version(requested, pipeline.active_version, [v.version for v in versions])
        raw = (
            pipeline.steps
            if version == 0
            else next(v.steps for v in versions if v.version == version)
        )
        return version, parse_steps(raw)

    async def _pages(self, steps: Sequence[StepSpec], request: EstimateRequest) -> int:
        converted = steps[0].type == "convert"
        convert = steps[0].settings if converted else {}
        page_range = request.page_range or _text(convert.get("page_range"))
        max_pages = convert.get("max_pages")
        max_pages = (
            max_pages if isinstance(max_pages, int) and not isinstance(max_pages, bool) else None
        )
        if request.document_key is not None:
            if self._admission is None:
                raise InvalidInput("This server cannot count a document's pages; send page_count.")
            return await self._admission.count(
                request.document_key, page_range, max_pages, converted=converted
            )
        count = request.page_count
        if count is None or not 1 <= count <= MAX_PAGE_COUNT:
            raise InvalidInput(
                f"Send a document (file or file_url) or a page_count from 1 to {MAX_PAGE_COUNT:,}."
            )
        return len(select_pages(count, page_range, max_pages))

    async def _recent(
        self, team_id: str, pipeline_id: str, version: int
    ) -> list[ExecutionSnapshot]:
        snapshots, _ = await self._executions.page(team_id, pipeline_id, limit=HISTORY, offset=0)
        return [
            s
            for s in snapshots
            if s.execution.pipeline_version == version
            and s.execution.status is ExecutionStatus.COMPLETED
            and s.execution.started_at is not None
            and s.execution.completed_at is not None
        ]


def _duration(
    pages: int,
    recent: Sequence[ExecutionSnapshot],
    queued: Mapping[str, int],
    step_types: Sequence[str],
) -> dict[str, Any]:
    per_page: list[float] = []
    waits: list[float] = []
    steps_seconds: list[float] = []
    for snapshot in recent:
        e = snapshot.execution
        assert e.started_at is not None and e.completed_at is not None
        processing = max(0.0, (e.completed_at - e.started_at).total_seconds())
        per_page.append(processing / max(1, e.page_count or 1))
        waits.append(max(0.0, (e.started_at - e.created).total_seconds()))
        steps_seconds.append(processing / max(1, len(snapshot.steps)))
    queued_steps = sum(queued.values())
    ahead = queued.get(step_types[0], 0) if step_types else 0
    answer: dict[str, Any] = {
        "based_on_executions": len(recent),
        "processing_seconds_per_page": _p50_p95(per_page),
        "queue_wait_seconds": _p50_p95(waits),
        "queue": {
            "queued_steps": queued_steps,
            "queued_steps_ahead": ahead,
            "by_step_type": dict(queued),
        },
        "expected_seconds": None,
    }
    if not recent:
        return answer
    # Steps queued before this one wait for their turn: a backlog of one step each (at the
    # recent per-step p50); the recent waits already contain the usual backlog, so the larger
    # of the two counts, not their sum.
    step_p50 = percentile(steps_seconds, 0.5) or 0.0
    backlog = ahead * step_p50
    expected = {}
    for name, fraction in (("p50", 0.5), ("p95", 0.95)):
        wait = percentile(waits, fraction) or 0.0
        seconds = percentile(per_page, fraction) or 0.0
        expected[name] = round(max(wait, backlog) + seconds * pages, 3)
    answer["expected_seconds"] = expected
    return answer


def _p50_p95(values: Sequence[float]) -> dict[str, float | None]:
    p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
    return {
        "p50": round(p50, 3) if p50 is not None else None,
        "p95": round(p95, 3) if p95 is not None else None,
    }


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None
