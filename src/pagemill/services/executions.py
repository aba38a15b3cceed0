"""Executions: start a run, read it back (the "get execution" decision rule), fetch results."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

from pagemill.domain.clock import Clock
from pagemill.domain.errors import Conflict, Gone, InvalidInput, NotFound
from pagemill.domain.files import is_reference
from pagemill.domain.idempotency import IdempotencyClaim
from pagemill.domain.ids import random_base62
from pagemill.domain.models import Execution, ExecutionSnapshot, NewExecution, Pipeline
from pagemill.domain.pipelines import StepSpec, select_version
from pagemill.domain.retention import expired, gone_detail
from pagemill.domain.statuses import TERMINAL_EXECUTION, TERMINAL_STEP, StepStatus
from pagemill.ports.blobs import BlobStore
from pagemill.ports.fetch import Fetcher
from pagemill.ports.ledger.catalog import PipelineCatalog
from pagemill.ports.ledger.executions import ExecutionLedger
from pagemill.ports.live import LiveStore
from pagemill.ports.metrics import Metrics, NoMetrics
from pagemill.ports.tracing import Attributes, NoTracing, Tracing
from pagemill.processors.registry import ProcessorRegistry
from pagemill.services.admission import Admission
from pagemill.services.execution_plans import ExecutionPlanner
from pagemill.services.execution_types import (
    OUTPUT_FORMATS,
    EvalHook,
    ExecutionView,
    FileResolver,
    RunOptions,
    StepSettingsHook,
    StoredDocument,
    chain_step_settings_hooks,
    check_output_format,
    clean_filename,
)
from pagemill.services.idempotency import Idempotency
from pagemill.services.rerun import RerunRequest, overridden, reused_steps
from pagemill.services.retention import RetentionPolicy
from pagemill.services.step_runner import StepRunner
from pagemill.services.storage import StorageQuota

log = logging.getLogger("pagemill.executions")

# How often a waiting poll looks at the live store (an in-memory dict, or one Redis GET):
# every 5 ms for its first 0.1 s, then every 50 ms (at most about 23 reads in 0.25 s).
_AWAIT_STEP_CLOSE_SECONDS = 0.1
_AWAIT_STEP_FAST_INTERVAL = 0.005
_AWAIT_STEP_SLOW_INTERVAL = 0.05

__all__ = [
    "OUTPUT_FORMATS",
    "EvalHook",
    "ExecutionService",
    "ExecutionView",
    "FileResolver",
    "RunOptions",
    "StepSettingsHook",
    "StoredDocument",
    "chain_step_settings_hooks",
    "check_output_format",
]


class ExecutionService:
    def __init__(
        self,
        pipelines: PipelineCatalog,
        executions: ExecutionLedger,
        live: LiveStore,
        blobs: BlobStore,
        fetcher: Fetcher,
        runner: StepRunner,
        processors: ProcessorRegistry,
        clock: Clock,
        *,
        max_upload_bytes: int,
        max_attempts: int,
        quota: StorageQuota,
        step_settings_hook: StepSettingsHook | None = None,
        metrics: Metrics | None = None,
        tracing: Tracing | None = None,
        admission: Admission | None = None,
        file_resolver: FileResolver | None = None,
        idempotency: Idempotency | None = None,
        retention: RetentionPolicy | None = None,
        eval_hook: EvalHook | None = None,
    ) -> None:
        self._pipelines = pipelines
        self._executions = executions
        self._live = live
        self._blobs = blobs
        self._fetcher = fetcher
        self._runner = runner
        self._processors = processors
        self._clock = clock
        self.max_upload_bytes = max_upload_bytes
        self._metrics = metrics or NoMetrics()
        self._tracing = tracing or NoTracing()
        self._admission = admission
        self._file_resolver = file_resolver
        self._quota = quota
        self._idempotency = idempotency
        self._planner = ExecutionPlanner(
            pipelines, processors, max_attempts, step_settings_hook, retention, eval_hook
        )

    # -- input documents ---------------------------------------------------------------------
    async def receive_upload(self, chunks: AsyncIterator[bytes], team_id: str) -> StoredDocument:
        """Stream an upload into the blob store under the size cap and the team's storage
        quota; name it with ``renamed``."""
        return await self._store(team_id, chunks)

    async def fetch(self, url: str, team_id: str) -> StoredDocument:
        if is_reference(url):  # an uploaded file of the team: never fetched over HTTP
            if self._file_resolver is None:
                raise InvalidInput("file_url: datalab:// file references are not accepted here.")
            return await self._file_resolver(team_id, url)
        async with self._fetcher.open(url, self.max_upload_bytes) as download:
            stored = await self._store(team_id, download.chunks)
        return dataclasses.replace(
            stored,
            filename=clean_filename(download.filename),
            content_type=download.content_type,
            file_url=url,
        )

    async def _store(self, team_id: str, chunks: AsyncIterator[bytes]) -> StoredDocument:
        key = f"inputs/{random_base62(24)}"
        info = await self._quota.write(self._blobs, key, team_id, chunks, self.max_upload_bytes)
        return StoredDocument(
            key, "document", "application/octet-stream", info.size, info.sha256, charged_to=team_id
        )

    async def duplicate(self, document: StoredDocument, team_id: str) -> StoredDocument:
        """Another run's own copy of ``document`` (a run consumes its document), counted
        against the team's storage quota like any run input."""
        key = f"inputs/{random_base62(24)}"
        await self._quota.charge(team_id, document.size)
        try:
            await self._blobs.copy(document.key, key)
        except BaseException:
            await self._quota.release(team_id, document.size)
            raise
        return dataclasses.replace(document, key=key, charged_to=team_id)

    async def discard(self, document: StoredDocument) -> None:
        if document.borrowed:
            return
        await self._blobs.delete(document.key)
        if document.charged_to is not None:
            await self._quota.release(document.charged_to, document.size)

    # -- run ---------------------------------------------------------------------------------
    async def runnable_pipeline(self, team_id: str, pipeline_id: str) -> Pipeline:
        """The pipeline a run of ``pipeline_id`` would use: ``NotFound`` for an unknown one,
        ``Conflict`` for an archived one. Read it before receiving the document, to refuse
        early, and hand it to ``run``."""
        pipeline = await self._pipelines.get(team_id, pipeline_id)
        if pipeline is None:
            raise NotFound(f"Pipeline {pipeline_id} not found")
        if pipeline.archived:
            raise Conflict(f"Pipeline {pipeline_id} is archived; unarchive it to run it.")
        return pipeline

    async def run(
        self,
        team_id: str,
        pipeline_id: str,
        options: RunOptions,
        document: StoredDocument,
        *,
        pipeline: Pipeline | None = None,
        execution_id: str | None = None,
    ) -> ExecutionView:
        """Create the execution and dispatch its first step; the document is consumed.

        ``pipeline`` is ``runnable_pipeline``'s answer from the start of the request (the run
        uses the definition as it was when the request arrived); without it, it is read here.
        With ``options.idempotency``, a request repeated with its key is answered with the
        execution the first one created (``replayed``), and the document is discarded.
        ``execution_id``: the id to create it under (a batch run reserves it first, so that a
        restart can tell whether the execution exists); default: a new one.
        """

        async def prepare() -> NewExecution:
            chosen = pipeline or await self.runnable_pipeline(team_id, pipeline_id)
            new = await self._planner.for_pipeline(team_id, chosen, options, document)
            if execution_id is None:
                return new
            return dataclasses.replace(new, execution_id=execution_id)

        return await self._start(team_id, options, document, prepare)

    async def run_steps(
        self,
        team_id: str,
        label: str,
        steps: Sequence[StepSpec],
        options: RunOptions,
        document: StoredDocument,
        *,
        input_extra: Mapping[str, Any] | None = None,
        retention_seconds: int | None = None,
    ) -> ExecutionView:
        """Create an execution of ``steps`` that no saved pipeline holds (a single-shot
        request: ``label`` stands where a pipeline id would); the document is consumed.
        ``input_extra`` is added to the execution's ``input_config``; ``retention_seconds``
        is how long its results are kept (the sweeper removes them after). An
        ``options.idempotency`` works as in ``run``."""

        async def prepare() -> NewExecution:
            self._processors.check_steps([(s.type, s.settings) for s in steps])
            retention = (retention_seconds, "request")
            extra = input_extra or {}
            return await self._planner.for_steps(
                team_id, label, 0, steps, options, document, extra, retention
            )

        return await self._start(team_id, options, document, prepare)

    async def _start(
        self,
        team_id: str,
        options: RunOptions,
        document: StoredDocument,
        prepare: Callable[[], Awaitable[NewExecution]],
    ) -> ExecutionView:
        """Create the execution ``prepare`` describes and dispatch its first step; the document
        is consumed (discarded when the request is refused, or answered by an earlier request
        with the same Idempotency-Key)."""
        try:
            claim = self._claim(options, document)
            if claim is not None and self._idempotency is not None:
                earlier = await self._idempotency.earlier(team_id, claim)
                if earlier is not None:
                    await self.discard(document)
                    return dataclasses.replace(await self.get(team_id, earlier), replayed=True)
            new = dataclasses.replace(await prepare(), idempotency=claim)
            snapshot = await self._create(new, options)
        except BaseException:
            with contextlib.suppress(Exception):
                await self.discard(document)
            raise
        if snapshot.execution.execution_id != new.execution_id:  # a concurrent duplicate won
            await self.discard(document)
            return ExecutionView(snapshot.execution, snapshot.steps, "ledger", replayed=True)
        await self._runner.publish(snapshot)
        return ExecutionView(snapshot.execution, snapshot.steps, source="ledger")

    def _claim(self, options: RunOptions, document: StoredDocument) -> IdempotencyClaim | None:
        if options.idempotency is None or self._idempotency is None:
            return None
        # A URL is the request's: its content may change between a request and its retry.
        named = (
            {"file_url": document.file_url}
            if document.file_url is not None
            else {"sha256": document.sha256, "filename": document.filename}
        )
        return self._idempotency.claim(options.idempotency, options.fingerprinted(), named)

    async def _create(self, new: NewExecution, options: RunOptions) -> ExecutionSnapshot:
        attributes: Attributes = {
            "pagemill.execution_id": new.execution_id,
            "pagemill.pipeline_id": new.pipeline_id,
            "pagemill.pipeline_version": new.pipeline_version,
            "pagemill.steps": len(new.step_types),
        }
        with self._tracing.run_request(attributes, options.traceparent) as traceparent:
            new = dataclasses.replace(new, traceparent=traceparent)
            if self._admission is None:
                return await self._executions.create(new, self._clock.now())
            # page limits, checked before anything is queued
            async with self._admission.execution(new) as counted:
                return await self._executions.create(counted, self._clock.now())

    async def rerun(self, team_id: str, execution_id: str, request: RerunRequest) -> ExecutionView:
        """A new execution of the parent's input that reuses the parent's outputs of the steps
        before ``request.from_step`` and runs the rest (see ``services.rerun``)."""
        parent = await self._executions.get(execution_id, team_id)
        if parent is None:
            raise NotFound(f"Execution {execution_id} not found")
        self._refuse_expired(parent, "stored outputs")
        pipeline = await self.runnable_pipeline(team_id, parent.pipeline_id)
        version = parent.pipeline_version if request.version is None else request.version
        if request.steps is not None:
            if request.version is not None:
                raise InvalidInput("Send either version or steps, not both.")
            raw_steps = [dict(step) for step in request.steps]
        elif request.version is None:
            raw_steps = list(parent.config_snapshot.get("steps") or [])
        else:
            versions = await self._pipelines.versions(pipeline.pk) if version > 0 else []
            version = select_version(
                version, pipeline.active_version, [v.version for v in versions]
            )
            raw_steps = (
                pipeline.steps
                if version == 0
                else next(v.steps for v in versions if v.version == version)
            )
        options = RunOptions(
            **overridden(parent, request),
            traceparent=request.traceparent,
            idempotency=request.idempotency,
        )
        config = parent.input_config
        document = StoredDocument(
            key=parent.input_key,
            filename=str(config.get("filename") or "document"),
            content_type=str(config.get("content_type") or "application/octet-stream"),
            size=int(config.get("file_size") or 1),
            sha256=str(config.get("sha256") or ""),
            file_url=config.get("file_url"),
        )
        claim = self._claim(options, document)
        if claim is not None and self._idempotency is not None:
            earlier = await self._idempotency.earlier(team_id, claim)
            if earlier is not None:
                return dataclasses.replace(await self.get(team_id, earlier), replayed=True)
        # Prepared as a run of the chosen steps (the draft slot carries them), then dated back
        # to the version they came from.
        new = await self._planner.for_pipeline(
            team_id,
            dataclasses.replace(pipeline, steps=raw_steps, active_version=0),
            options,
            document,
        )
        reused = reused_steps(
            parent,
            await self._executions.steps(execution_id),
            new.step_types,
            new.step_settings,
            request.from_step,
        )
        rerun = {
            "parent_execution_id": execution_id,
            "from_step": request.from_step,
            "steps_replaced": request.steps is not None,
        }
        new = dataclasses.replace(
            new,
            pipeline_version=version,
            config_snapshot={**new.config_snapshot, "version": version, "rerun": rerun},
            reused=reused,
            parent_execution_id=execution_id,
            page_count=parent.page_count if reused else None,
            idempotency=claim,
        )
        snapshot = await self._create(new, options)
        if snapshot.execution.execution_id != new.execution_id:  # a concurrent duplicate won
            return ExecutionView(snapshot.execution, snapshot.steps, "ledger", replayed=True)
        await self._runner.publish(snapshot)
        return ExecutionView(snapshot.execution, snapshot.steps, source="ledger")

    # -- reading -----------------------------------------------------------------------------
    async def get(self, team_id: str, execution_id: str) -> ExecutionView:
        """The decision rule: terminal → ledger; in flight → live if at least as fresh."""
        started = time.perf_counter()
        view = await self._read(team_id, execution_id)
        self._metrics.execution_read(view.source, time.perf_counter() - started)
        return view

    async def _read(self, team_id: str, execution_id: str) -> ExecutionView:
        # The head and the live entry are read at once: the rule compares them, and the
        # comparison (live only when its seq is at least the head's) holds whichever read
        # finishes first. In scale-out they are two servers: waiting for one, then the other,
        # doubled the latency and the exposure to a slow wake-up.
        live_read = asyncio.ensure_future(self._live_snapshot(execution_id))
        try:
            head = await self._executions.head(execution_id, team_id)
        except BaseException:
            live_read.cancel()
            raise
        if head is None or head.status in TERMINAL_EXECUTION:
            live_read.cancel()  # not used (usually answered already)
            if head is None:
                raise NotFound(f"Execution {execution_id} not found")
        else:
            live = await live_read
            if live is not None and live.execution.seq >= head.seq:
                return ExecutionView(live.execution, live.steps, "live", live.progress)
        row = await self._executions.get(execution_id, team_id)
        if row is None:  # deleted between the two reads
            raise NotFound(f"Execution {execution_id} not found")
        return ExecutionView(row, await self._executions.steps(execution_id), "ledger")

    async def cancel(self, team_id: str, execution_id: str) -> ExecutionView:
        """Cancel an execution (a pagemill extension); a finished one is returned unchanged."""
        snapshot = await self._executions.cancel(
            execution_id, team_id, self._clock.now(), self._runner.rates
        )
        if snapshot is None:
            raise NotFound(f"Execution {execution_id} not found")
        await self._runner.publish(snapshot)
        self._runner.interrupt(execution_id)
        return ExecutionView(snapshot.execution, snapshot.steps, "ledger")

    def _refuse_expired(self, execution: Execution, what: str) -> None:
        """``Gone`` (410) once the execution's retention ran out, whether or not the sweeper
        has removed the blobs yet: what is expired is never served."""
        if expired(execution.expires_at, execution.purged_at, self._clock.now()):
            set_by = execution.input_config.get("retention_set_by")
            raise Gone(
                gone_detail(
                    execution.execution_id,
                    what,
                    execution.expires_at,
                    execution.retention_seconds,
                    set_by if isinstance(set_by, str) else None,
                )
            )

    async def await_step(self, execution_id: str, step_index: int, seconds: float) -> None:
        """Return once the live store shows the step ended, or after ``seconds`` (a poll's
        short wait: a request about to finish is answered finished, not "processing")."""
        start = time.monotonic()
        deadline = start + seconds
        while (left := deadline - time.monotonic()) > 0:
            snapshot = await self._live_snapshot(execution_id)
            if snapshot is None or len(snapshot.steps) <= step_index:
                return  # nothing live to watch: the ledger answers as it is
            if snapshot.steps[step_index].status in TERMINAL_STEP:
                return
            # Short requests end within the first 0.1 s: look closely then, rarely after.
            slow = time.monotonic() - start > _AWAIT_STEP_CLOSE_SECONDS
            interval = _AWAIT_STEP_SLOW_INTERVAL if slow else _AWAIT_STEP_FAST_INTERVAL
            await asyncio.sleep(min(interval, left))

    async def _live_snapshot(self, execution_id: str) -> ExecutionSnapshot | None:
        try:
            return await self._live.get(execution_id)
        except Exception:  # an unreachable live store means "ask the ledger"
            log.warning("live store read failed", exc_info=True)
            return None

    async def list_executions(
        self, team_id: str, pipeline_id: str, *, limit: int, offset: int
    ) -> tuple[list[ExecutionView], int]:
        if await self._pipelines.get(team_id, pipeline_id) is None:
            raise NotFound(f"Pipeline {pipeline_id} not found")
        snapshots, total = await self._executions.page(
            team_id, pipeline_id, limit=limit, offset=offset
        )
        return [ExecutionView(s.execution, s.steps, "ledger") for s in snapshots], total

    async def step_result(
        self, team_id: str, execution_id: str, step_index: int
    ) -> bytes | Mapping[str, Any]:
        """The stored result (JSON bytes) of a completed step, or its status otherwise."""
        view = await self.get(team_id, execution_id)
        if not 0 <= step_index < len(view.steps):
            raise NotFound(f"Step {step_index} of execution {execution_id} not found")
        step = view.steps[step_index]
        self._refuse_expired(view.execution, f"result of step {step_index}")
        if step.status is StepStatus.COMPLETED and step.result_key is None:
            # Live said completed before the ledger row was read here: ask the ledger.
            step = (await self._executions.steps(execution_id))[step_index]
        if step.status is StepStatus.COMPLETED and step.result_key:
            try:
                return await self._blobs.read_bytes(step.result_key)
            except NotFound as exc:
                raise NotFound(
                    f"The result of step {step_index} of {execution_id} was not found or expired"
                ) from exc
        if step.status is StepStatus.FAILED:
            return {"status": "failed", "success": False, "error": step.error_message}
        if step.status in (StepStatus.SKIPPED, StepStatus.CANCELLED):
            return {
                "status": step.status.value,
                "success": False,
                "error": f"Step {step_index} was {step.status.value} and has no result.",
            }
        return {"status": "processing", "step_status": step.status.value}
