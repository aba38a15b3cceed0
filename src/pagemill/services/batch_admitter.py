"""The batch admitter: starts the executions of batch runs a few at a time, within the team's
budget of pages in flight, records each file's outcome, and winds runs down.

Everything it knows is in the ledger, so any process can take a run over: runs are leased
(``lease_unfinished``) and the lease is renewed on every pass, so a run is admitted by one
process at a time and resumed by another when its admitter dies. One pass over a run:

1. record the outcome of the files whose execution finished (and score it with the run's eval
   rubric, when there is one);
2. a cancelled run: cancel its running executions; otherwise admit pending files while the
   team's pages in flight stay under ``in_flight_share`` of its limit (the rest is left to
   the team's other submissions), at most ``admit_per_pass`` of them;
3. when no file is pending or running: the run's final status.

Memory is bounded by the page sizes of those reads, whatever the size of the run.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from pagemill.domain.batches import (
    BatchItem,
    BatchRun,
    ItemOutcome,
    ItemStatus,
    item_status_of,
)
from pagemill.domain.clock import Clock
from pagemill.domain.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    StorageQuotaExceeded,
    UnsupportedMediaType,
)
from pagemill.domain.eval_rubrics import EvalDefinition
from pagemill.domain.files import reference
from pagemill.domain.ids import new_execution_id
from pagemill.domain.statuses import ExecutionStatus, StepStatus
from pagemill.ports.ledger.batches import BatchRunLedger
from pagemill.ports.ledger.executions import ExecutionLedger
from pagemill.processors.evaluation import evaluate
from pagemill.services.admission import PAGE_COUNT_KEY
from pagemill.services.batches import RubricLookup
from pagemill.services.executions import ExecutionService, RunOptions

log = logging.getLogger("pagemill.batches")

# What fails one file for good; anything else (the ledger down, a bug) is tried again later.
_CANNOT_RUN = (NotFound, InvalidInput, Conflict, PayloadTooLarge, UnsupportedMediaType)


@dataclass(frozen=True, slots=True)
class AdmitterConfig:
    max_pages_in_flight: int = 5000  # the team's limit (``Settings.max_pages_in_flight``)
    in_flight_share: float = 0.5  # of that limit, what batch runs may fill
    admit_per_pass: int = 64  # executions started per run and pass
    # Executions started at the same time. One: on SQLite (one writer) more only queued their
    # transactions in front of the steps' (the benchmark ran slower with four).
    admit_concurrency: int = 1
    read_chunk: int = 200  # finished items recorded per run and pass
    lease_seconds: float = 30.0
    runs_per_pass: int = 16


class BatchAdmitter:
    def __init__(
        self,
        batch_runs: BatchRunLedger,
        executions_ledger: ExecutionLedger,
        executions: ExecutionService,
        clock: Clock,
        config: AdmitterConfig,
        *,
        rubrics: RubricLookup | None = None,
    ) -> None:
        self._runs = batch_runs
        self._ledger = executions_ledger
        self._executions = executions
        self._clock = clock
        self.config = config
        self.rubrics = rubrics

    async def run_pass(self, owner: str) -> bool:
        """One pass over the runs this process may lease; True when it changed anything (the
        loop then comes back at once)."""
        runs = await self._runs.lease_unfinished(
            owner, self._clock.now(), self.config.lease_seconds, self.config.runs_per_pass
        )
        busy = False
        for run in runs:
            try:
                busy = await self._advance(run) or busy
            except Exception:  # one broken run must not stop the others
                log.exception("batch run %s: pass failed", run.run_id)
        return busy

    async def release(self, owner: str) -> None:
        await self._runs.release(owner)

    async def _advance(self, run: BatchRun) -> bool:
        busy = await self._record_finished(run)
        if run.cancel_requested:
            busy = await self._cancel_running(run) or busy
        else:
            busy = await self._admit(run) or busy
        final = await self._runs.finalize(run.run_id, self._clock.now())
        if final is not None:
            log.info("batch run %s ended %s", run.run_id, final.status.value)
        return busy or final is not None

    # -- outcomes ----------------------------------------------------------------------------
    async def _record_finished(self, run: BatchRun) -> bool:
        finished = await self._runs.finished_executions(run.run_id, self.config.read_chunk)
        if not finished:
            return False
        rubric = await self._rubric(run)
        outcomes: list[ItemOutcome] = []
        for item, execution_status in finished:
            if execution_status is None:
                why = "The execution was deleted before it ended."
                outcomes.append(ItemOutcome(item.position, ItemStatus.FAILED, error_message=why))
                continue
            status = item_status_of(execution_status)
            if status is not ItemStatus.COMPLETED:
                why = f"The execution ended {execution_status.value}."
                outcomes.append(ItemOutcome(item.position, status, error_message=why))
                continue
            score, results = (
                await self._score(run, item, rubric) if rubric is not None else (None, None)
            )
            outcomes.append(ItemOutcome(item.position, status, score, results))
        # One transaction for them all: the steps' own transactions wait less for the lock.
        await self._runs.finish_items(run.run_id, outcomes, self._clock.now())
        return True

    async def _rubric(self, run: BatchRun) -> EvalDefinition | None:
        if run.eval_rubric_id is None or self.rubrics is None:
            return None
        return await self.rubrics(run.team_id, run.eval_rubric_id)

    async def _score(
        self, run: BatchRun, item: BatchItem, rubric: EvalDefinition
    ) -> tuple[float | None, dict[str, Any] | None]:
        """The rubric on the result of the execution's last completed step."""
        assert item.execution_id is not None
        try:
            view = await self._executions.get(run.team_id, item.execution_id)
        except NotFound:
            return None, None
        done = [s.step_index for s in view.steps if s.status is StepStatus.COMPLETED]
        if not done:
            return None, None
        try:
            raw = await self._executions.step_result(run.team_id, item.execution_id, done[-1])
        except NotFound:  # the result expired or was deleted: nothing to score
            return None, None
        if not isinstance(raw, bytes):
            return None, None
        result = json.loads(raw)
        evaluation = evaluate(rubric, result if isinstance(result, dict) else {})
        score = evaluation.get("score")
        return (float(score) if score is not None else None), evaluation

    # -- cancelling --------------------------------------------------------------------------
    async def _cancel_running(self, run: BatchRun) -> bool:
        ids = await self._runs.running_executions(run.run_id, self.config.admit_per_pass)
        for execution_id in ids:
            try:
                await self._executions.cancel(run.team_id, execution_id)
            except NotFound:  # deleted meanwhile: nothing left to cancel
                continue
        # Their items move once the cancellations are final (``_record_finished``).
        return bool(ids)

    # -- admitting ---------------------------------------------------------------------------
    async def _admit(self, run: BatchRun) -> bool:
        if run.counts.pending == 0:  # as leased: every file was admitted already
            return False
        budget = max(1, int(self.config.max_pages_in_flight * self.config.in_flight_share))
        in_flight = await self._ledger.pages_in_flight(run.team_id)
        pending = await self._runs.pending(run.run_id, self.config.admit_per_pass)
        admitted = 0
        while pending and in_flight < budget:
            # ``admit_concurrency`` at a time. Each file has a page at least, so a group never
            # asks for more than the room left.
            width = min(self.config.admit_concurrency, budget - in_flight)
            group, pending = pending[:width], pending[width:]
            outcomes = await asyncio.gather(*(self._try_admit(run, item) for item in group))
            admitted += sum(pages is not None for pages in outcomes)
            in_flight += sum(pages or 0 for pages in outcomes)
            if None in outcomes:  # the team is at a limit: later
                break
        return admitted > 0

    async def _try_admit(self, run: BatchRun, item: BatchItem) -> int | None:
        """The pages the item's execution adds; None when the team is at a limit."""
        try:
            return await self._admit_one(run, item)
        except (RateLimited, StorageQuotaExceeded):
            return None
        except _CANNOT_RUN as exc:  # this file cannot run (deleted, too long, …)
            failed = ItemOutcome(item.position, ItemStatus.FAILED, error_message=str(exc))
            await self._runs.finish_items(run.run_id, [failed], self._clock.now())
            return 0

    async def _admit_one(self, run: BatchRun, item: BatchItem) -> int:
        """Start the item's execution (unless a previous admitter did, before it died) and
        mark it running; the pages it counts against the budget."""
        execution_id = item.execution_id
        if execution_id is None:
            execution_id = new_execution_id()
            if not await self._runs.reserve(run.run_id, item.position, execution_id):
                return 0  # another admitter took it over
        existing = await self._ledger.get(execution_id, run.team_id)
        if existing is None:
            document = await self._executions.fetch(reference(item.file_id), run.team_id)
            view = await self._executions.run(
                run.team_id,
                run.pipeline_id,
                _options(run),
                document,
                execution_id=execution_id,
            )
            existing = view.execution
        await self._runs.mark_running(run.run_id, item.position, self._clock.now())
        if existing.status is ExecutionStatus.PENDING or existing.status is ExecutionStatus.RUNNING:
            pages = existing.input_config.get(PAGE_COUNT_KEY)
            return pages if isinstance(pages, int) else 1
        return 0


def _options(run: BatchRun) -> RunOptions:
    o = run.options
    return RunOptions(
        page_range=o.get("page_range"),
        output_format=o.get("output_format"),
        run_evals=bool(o.get("run_evals", False)),
        skip_cache=bool(o.get("skip_cache", False)),
        version=run.pipeline_version,
    )
