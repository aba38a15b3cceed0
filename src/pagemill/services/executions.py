"""Executions: start a run, read it back (the "get execution" decision rule), fetch results."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pagemill.domain.clock import Clock
from pagemill.domain.errors import Conflict, InvalidInput, NotFound
from pagemill.domain.files import is_reference
from pagemill.domain.ids import new_execution_id, random_base62
from pagemill.domain.models import Execution, ExecutionSnapshot, NewExecution, Pipeline, StepRun
from pagemill.domain.page_ranges import parse_page_range
from pagemill.domain.pipelines import StepSpec, parse_steps, select_version
from pagemill.domain.statuses import TERMINAL_EXECUTION, StepStatus
from pagemill.domain.webhooks import check_webhook_url, parse_webhook_events
from pagemill.ports.blobs import BlobStore
from pagemill.ports.fetch import Fetcher
from pagemill.ports.ledger.catalog import PipelineCatalog
from pagemill.ports.ledger.executions import ExecutionLedger
from pagemill.ports.live import LiveStore
from pagemill.ports.metrics import Metrics, NoMetrics
from pagemill.ports.tracing import Attributes, NoTracing, Tracing
from pagemill.processors.registry import ProcessorRegistry
from pagemill.services.admission import Admission
from pagemill.services.step_runner import StepRunner
from pagemill.services.storage import StorageQuota

log = logging.getLogger("pagemill.executions")

OUTPUT_FORMATS = frozenset({"markdown", "html", "json", "chunks"})

# (team_id, steps) → each step's settings as the workers will see them; may refuse a step.
StepSettingsHook = Callable[[str, Sequence[StepSpec]], Awaitable[list[dict[str, Any]]]]
# (team_id, "datalab://file-N") → a copy of the team's uploaded file as a run's document.
FileResolver = Callable[[str, str], Awaitable["StoredDocument"]]


def chain_step_settings_hooks(*hooks: StepSettingsHook) -> StepSettingsHook:
    """One hook that runs ``hooks`` in order, each on the settings the previous one returned
    (custom processors freeze ``custom`` steps, extraction schemas ``extract`` steps)."""

    async def chained(team_id: str, steps: Sequence[StepSpec]) -> list[dict[str, Any]]:
        current = list(steps)
        for hook in hooks:
            settings = await hook(team_id, current)
            current = [
                dataclasses.replace(s, settings=new)
                for s, new in zip(current, settings, strict=True)
            ]
        return [dict(s.settings) for s in current]

    return chained


@dataclass(frozen=True, slots=True)
class RunOptions:
    page_range: str | None = None
    output_format: str | None = None
    run_evals: bool = False
    skip_cache: bool = False
    webhook_url: str | None = None
    version: int | None = None
    webhook_events: str | None = None  # extension: "execution" (default) and/or "step"
    traceparent: str | None = None  # the caller's W3C trace context, when it sent one


@dataclass(frozen=True, slots=True)
class StoredDocument:
    key: str
    filename: str
    content_type: str
    size: int
    sha256: str
    file_url: str | None = None
    charged_to: str | None = None  # the team whose storage quota counts these bytes

    def renamed(self, filename: str, content_type: str) -> StoredDocument:
        return dataclasses.replace(
            self, filename=_clean_filename(filename), content_type=content_type
        )


@dataclass(frozen=True, slots=True)
class ExecutionView:
    execution: Execution
    steps: list[StepRun]
    source: Literal["ledger", "live"]
    progress: dict[int, dict[str, Any]] = field(default_factory=dict)


def check_output_format(value: str) -> None:
    formats = [f.strip() for f in value.split(",")]
    unknown = [f for f in formats if f not in OUTPUT_FORMATS]
    if unknown or not formats:
        raise InvalidInput(
            f"output_format {value!r} is not valid; use one or more of "
            f"{', '.join(sorted(OUTPUT_FORMATS))}, comma-separated."
        )


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
        self._max_attempts = max_attempts
        self._metrics = metrics or NoMetrics()
        self._tracing = tracing or NoTracing()
        self._step_settings_hook = step_settings_hook
        self._admission = admission
        self._file_resolver = file_resolver
        self._quota = quota

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
            filename=_clean_filename(download.filename),
            content_type=download.content_type,
            file_url=url,
        )

    async def _store(self, team_id: str, chunks: AsyncIterator[bytes]) -> StoredDocument:
        key = f"inputs/{random_base62(24)}"
        info = await self._quota.write(self._blobs, key, team_id, chunks, self.max_upload_bytes)
        return StoredDocument(
            key, "document", "application/octet-stream", info.size, info.sha256, charged_to=team_id
        )

    async def discard(self, document: StoredDocument) -> None:
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
        ``execution_id``: the id to create it under (a batch run reserves it first, so that a
        restart can tell whether the execution exists); default: a new one.
        """
        try:
            if pipeline is None:
                pipeline = await self.runnable_pipeline(team_id, pipeline_id)
            new = await self._prepare(team_id, pipeline, options, document)
            if execution_id is not None:
                new = dataclasses.replace(new, execution_id=execution_id)
            attributes: Attributes = {
                "pagemill.execution_id": new.execution_id,
                "pagemill.pipeline_id": new.pipeline_id,
                "pagemill.pipeline_version": new.pipeline_version,
                "pagemill.steps": len(new.step_types),
            }
            with self._tracing.run_request(attributes, options.traceparent) as traceparent:
                new = dataclasses.replace(new, traceparent=traceparent)
                if self._admission is None:
                    snapshot = await self._executions.create(new, self._clock.now())
                else:  # page limits, checked before anything is queued
                    async with self._admission.execution(new) as counted:
                        snapshot = await self._executions.create(counted, self._clock.now())
        except BaseException:
            with contextlib.suppress(Exception):
                await self.discard(document)
            raise
        await self._runner.publish(snapshot)
        return ExecutionView(snapshot.execution, snapshot.steps, source="ledger")

    async def _prepare(
        self, team_id: str, pipeline: Pipeline, options: RunOptions, document: StoredDocument
    ) -> NewExecution:
        if document.size == 0:
            raise InvalidInput("The uploaded file is empty.")
        if options.page_range is not None:
            parse_page_range(options.page_range)
        if options.output_format is not None:
            check_output_format(options.output_format)
        if options.webhook_url is not None:
            check_webhook_url(options.webhook_url)
        webhook_events = parse_webhook_events(options.webhook_events)
        wanted = pipeline.active_version if options.version is None else options.version
        # The draft (version 0) is on the pipeline row: read published versions only if needed.
        versions = await self._pipelines.versions(pipeline.pk) if wanted > 0 else []
        version = select_version(
            options.version, pipeline.active_version, [v.version for v in versions]
        )
        raw_steps = (
            pipeline.steps
            if version == 0
            else next(v.steps for v in versions if v.version == version)
        )
        steps = parse_steps(raw_steps)
        self._processors.check_steps([(s.type, s.settings) for s in steps])
        overrides = {
            "page_range": options.page_range,
            "output_format": options.output_format,
            "skip_cache": options.skip_cache,
            "run_evals": options.run_evals,
        }
        return NewExecution(
            execution_id=new_execution_id(),
            team_id=team_id,
            pipeline_id=pipeline.pipeline_id,
            pipeline_version=version,
            input_key=document.key,
            config_snapshot={
                "version": version,
                "steps": [dict(s.raw) for s in steps],
                "overrides": overrides,
            },
            input_config={
                "filename": document.filename,
                "file_url": document.file_url,
                "content_type": document.content_type,
                "file_size": document.size,
                "sha256": document.sha256,
                "page_range": options.page_range,
                "output_format": options.output_format,
                "run_evals": options.run_evals,
                "skip_cache": options.skip_cache,
                "webhook_url": options.webhook_url,
                **({"webhook_events": webhook_events} if webhook_events else {}),
            },
            step_types=[s.type for s in steps],
            step_settings=await self._step_settings(team_id, steps),
            max_attempts=self._max_attempts,
        )

    async def _step_settings(self, team_id: str, steps: Sequence[StepSpec]) -> list[dict[str, Any]]:
        """The settings each step runs with; the hook freezes what a run must not look up later
        (a custom step's definition, an extract step's saved schema)."""
        if self._step_settings_hook is None:
            return [dict(s.settings) for s in steps]
        return await self._step_settings_hook(team_id, steps)

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


def _clean_filename(name: str) -> str:
    """Keep a display name only: no directories, no control characters, bounded length."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()
    return cleaned[:255] or "document"
