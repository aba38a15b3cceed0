"""``Engine``: the embedded pagemill engine in this process — a SQLite ledger in a data
directory (a temporary one by default), in-process workers — and ``run``, one pipeline on one
document on a fresh engine.

Runs go through the same services as the server's (executions, the step runner, the process
pool, the executor cache), so a pipeline behaves here as it does behind the HTTP API.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from pagemill import bootstrap
from pagemill.domain.errors import InvalidInput
from pagemill.library.documents import Source, local_document
from pagemill.library.pipeline import Pipeline
from pagemill.library.results import RunProgress, RunResult, StepProgress, StepResult
from pagemill.services.container import Services
from pagemill.services.executions import ExecutionView, RunOptions
from pagemill.settings import Settings
from pagemill.worker import embedded

TEAM = "default"
POLL_SECONDS = 0.1  # how often a run in this process is looked at; reads are in-memory

ProgressCallback = Callable[[RunProgress], None]


class Engine:
    """An embedded engine, open for the length of an ``async with`` block.

    >>> async with Engine() as engine:
    ...     result = await engine.run(Pipeline([{"type": "convert"}]), "report.pdf")

    ``data_dir`` keeps the ledger, uploads and results (and, with them, the executor cache)
    between engines; by default a temporary directory is used and removed at the end. Do not
    share a data directory with a running ``pagemill serve``: each would take the other's
    running steps for lost. ``workers`` steps run at once. With ``processes=0`` (the default)
    they run in threads of this process; ``processes=N`` runs the CPU-heavy ones in N worker
    processes instead, as the server does (CPU in parallel, a crash or a step timeout kills
    only its process), which needs a main module that is safe to import (the
    ``if __name__ == "__main__":`` guard of ``multiprocessing``). ``settings`` are further
    ``pagemill`` settings by name (``{"process_pool_size": 4}``); the ``PAGEMILL_*``
    environment applies as for the server, except what makes the engine embedded (the ledger,
    the live store and the queue are always this process's own).
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        workers: int = 2,
        processes: int = 0,
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        if workers < 1 or processes < 0:
            raise InvalidInput("An engine needs at least one worker and 0 or more processes.")
        self._data_dir = Path(data_dir) if data_dir is not None else None
        self._workers = workers
        self._processes = processes
        self._overrides = dict(settings or {})
        self._stack: contextlib.AsyncExitStack | None = None
        self._services: Services | None = None
        self._team_id = ""
        self._pipelines: dict[Pipeline, str] = {}
        self._storing = asyncio.Lock()  # runs started together store their pipeline once

    async def __aenter__(self) -> Engine:
        stack = contextlib.AsyncExitStack()
        try:
            data_dir = self._data_dir
            if data_dir is None:
                data_dir = Path(
                    stack.enter_context(tempfile.TemporaryDirectory(prefix="pagemill-"))
                )
            settings = Settings(
                **{
                    **self._overrides,
                    "data_dir": data_dir,
                    "database_url": None,
                    "live_url": "memory://",
                    "queue": "local",
                    "workers": self._workers,
                    "process_pool_size": max(1, self._processes),
                }
            )
            inline = bootstrap.InlineComputePool() if self._processes == 0 else None
            runtime = await stack.enter_async_context(
                bootstrap.open_runtime(settings, compute=inline)
            )
            self._services = await stack.enter_async_context(embedded(runtime))
            teams = self._services.teams
            team = await teams.find_team(TEAM) or await teams.create_team(TEAM)
            self._team_id = team.id
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        stack, self._stack, self._services = self._stack, None, None
        self._pipelines.clear()
        if stack is not None:
            await stack.aclose()

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("the engine is not open: use it in `async with Engine() as …`")
        return self._services

    # -- running -----------------------------------------------------------------------------
    async def pipeline_id(self, pipeline: Pipeline | str) -> str:
        """The id of ``pipeline`` in this engine's ledger (stored once per engine), or the id
        given, checked to exist."""
        if isinstance(pipeline, str):
            return (await self.services.pipelines.get(self._team_id, pipeline)).pipeline_id
        async with self._storing:
            known = self._pipelines.get(pipeline)
            if known is None:
                created = await self.services.pipelines.create(self._team_id, pipeline.steps)
                known = self._pipelines[pipeline] = created.pipeline_id
            return known

    async def submit(
        self,
        pipeline: Pipeline | str,
        document: Source,
        *,
        filename: str | None = None,
        page_range: str | None = None,
        output_format: str | None = None,
        skip_cache: bool = False,
        version: int | None = None,
    ) -> str:
        """Start a run of ``pipeline`` (a ``Pipeline``, or a pipeline id of this engine's data
        directory) on ``document``; returns the execution id at once."""
        pipeline_id = await self.pipeline_id(pipeline)
        executions = self.services.executions
        options = RunOptions(
            page_range=page_range,
            output_format=output_format,
            skip_cache=skip_cache,
            version=version,
        )
        with local_document(document, filename) as local:
            stored = await executions.receive_upload(local.chunks(), self._team_id)
            stored = stored.renamed(local.filename, local.content_type)
        view = await executions.run(self._team_id, pipeline_id, options, stored)
        return view.execution.execution_id

    async def progress(self, execution_id: str) -> RunProgress:
        """The run as it is now."""
        return progress_of(await self.services.executions.get(self._team_id, execution_id))

    async def follow(self, execution_id: str) -> AsyncIterator[RunProgress]:
        """The run each time it changes (pages done included), until it has ended."""
        last: RunProgress | None = None
        while True:
            now = await self.progress(execution_id)
            if now != last:
                last = now
                yield now
            if now.finished:
                return
            await asyncio.sleep(POLL_SECONDS)

    async def step_result(self, execution_id: str, step_index: int) -> bytes | None:
        """A completed step's stored result (JSON), None for a step without one."""
        found = await self.services.executions.step_result(self._team_id, execution_id, step_index)
        return found if isinstance(found, bytes) else None

    async def result(self, execution_id: str) -> RunResult:
        """The typed result of an ended run."""
        progress = await self.progress(execution_id)
        steps = []
        for step in progress.steps:
            raw = (
                await self.step_result(execution_id, step.index)
                if step.status == "completed"
                else None
            )
            steps.append(StepResult.of(step, json.loads(raw) if raw is not None else None))
        execution = await self.services.executions.get(self._team_id, execution_id)
        return RunResult(
            execution_id=execution_id,
            pipeline_id=execution.execution.pipeline_id,
            status=progress.status,
            steps=tuple(steps),
        )

    async def cancel(self, execution_id: str) -> RunProgress:
        return progress_of(await self.services.executions.cancel(self._team_id, execution_id))

    async def run(
        self,
        pipeline: Pipeline | str,
        document: Source,
        *,
        filename: str | None = None,
        page_range: str | None = None,
        output_format: str | None = None,
        skip_cache: bool = False,
        version: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> RunResult:
        """Run ``pipeline`` on ``document`` to its end; ``on_progress`` sees each change.
        A run whose caller is cancelled is cancelled."""
        execution_id = await self.submit(
            pipeline,
            document,
            filename=filename,
            page_range=page_range,
            output_format=output_format,
            skip_cache=skip_cache,
            version=version,
        )
        try:
            async for progress in self.follow(execution_id):
                if on_progress is not None:
                    on_progress(progress)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.cancel(execution_id))
            raise
        return await self.result(execution_id)


def progress_of(view: ExecutionView) -> RunProgress:
    """An execution as the services read it (``ExecutionView``) → ``RunProgress``."""
    steps = []
    for step in view.steps:
        live = view.progress.get(step.step_index) or {}
        done, total = live.get("pages_done"), live.get("pages_total")
        running = step.status.value == "running"
        steps.append(
            StepProgress(
                index=step.step_index,
                step_type=step.step_type,
                status=step.status.value,
                attempt=step.attempt,
                pages_done=done if running and isinstance(done, int) else None,
                pages_total=total if running and isinstance(total, int) else None,
                error=step.error_message,
                cache=(step.cache or {}).get("status"),
            )
        )
    return RunProgress(view.execution.execution_id, view.execution.status.value, tuple(steps))


def run(
    pipeline: Pipeline,
    document: Source,
    *,
    filename: str | None = None,
    page_range: str | None = None,
    output_format: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    on_progress: ProgressCallback | None = None,
) -> RunResult:
    """Run ``pipeline`` on ``document`` (a path, or the file's bytes) on an embedded engine
    started for this call, and return every step's result.

    Blocking; from async code, or to run many documents on one engine, use ``Engine``.
    ``data_dir`` keeps the engine's ledger and results (a temporary directory by default).

    >>> result = run(Pipeline([{"type": "convert"}, {"type": "segment"}]), "report.pdf")
    >>> result.ok, result.steps[1].output.segments
    """

    async def go() -> RunResult:
        async with Engine(data_dir) as engine:
            return await engine.run(
                pipeline,
                document,
                filename=filename,
                page_range=page_range,
                output_format=output_format,
                on_progress=on_progress,
            )

    return asyncio.run(go())
