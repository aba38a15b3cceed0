"""``pagemill run PIPELINE DOCUMENT…``: run a pipeline on many documents, on a server or in
this process, with live progress, results written to files and a summary."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

import typer

from pagemill.cli.backends import Backend, EngineBackend, RunSettings, ServerBackend
from pagemill.cli.client import ApiClient, ApiError
from pagemill.cli.common import DataDir
from pagemill.cli.inputs import InputDocument, InputError, collect
from pagemill.cli.remote import ApiKeyOption, JsonOption, ServerOption, fail
from pagemill.cli.run_view import (
    DocumentOutcome,
    JsonView,
    ProgressView,
    RunView,
    StepOutcome,
)
from pagemill.domain.errors import InvalidInput, PagemillError, ProcessingError
from pagemill.domain.page_ranges import parse_page_range
from pagemill.library import Engine
from pagemill.services.executions import check_output_format


def run(
    pipeline: Annotated[
        str,
        typer.Argument(
            help="A file of steps (YAML or JSON) or a pipeline id (pl_…).", show_default=False
        ),
    ],
    documents: Annotated[
        list[str],
        typer.Argument(
            help="Files, directories (every file under them) or quoted globs ('scans/**/*.pdf').",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path, typer.Option(help="Results go to OUT/<document>/<step>-<type>.json.")
    ] = Path("pagemill-results"),
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="Documents in flight at once.")
    ] = 4,
    page_range: Annotated[
        str | None, typer.Option(help="Pages to process, 0-based: 0,2-4.")
    ] = None,
    output_format: Annotated[
        str | None, typer.Option(help="markdown, html, json, chunks (comma-separated).")
    ] = None,
    skip_cache: Annotated[
        bool, typer.Option("--skip-cache", help="Do not reuse identical earlier work.")
    ] = False,
    version: Annotated[
        int | None, typer.Option(help="The pipeline version to run (0: the draft).")
    ] = None,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
    local: Annotated[
        bool,
        typer.Option("--local", help="Run in this process even when a server is configured."),
    ] = False,
    data_dir: DataDir = None,
    json: JsonOption = False,
) -> None:
    """Run a pipeline on documents: on a server (--server), or in this process on the embedded
    engine (a temporary data dir unless --data-dir is given). Exit code 1 when any document
    did not complete."""
    try:
        inputs = collect(documents)
        # The run-level options, checked as the server checks them, before any document goes.
        if page_range is not None:
            parse_page_range(page_range)
        if output_format is not None:
            check_output_format(output_format)
    except InputError as error:
        raise fail(str(error), 2) from error
    except InvalidInput as error:
        raise fail(error.detail, 2) from error
    settings = RunSettings(page_range, output_format, skip_cache, version)
    view: RunView = JsonView() if json else ProgressView(inputs)
    where = None if local else server
    try:
        outcomes = asyncio.run(
            _run_all(where, api_key, data_dir, concurrency, pipeline, inputs, settings, out, view)
        )
    except (ApiError, PagemillError) as error:
        view.close()
        # The pipeline was refused (here or by the server): the command could not start.
        refused = isinstance(error, InvalidInput) or getattr(error, "status", 0) in (400, 422)
        raise fail(str(error), 2 if refused else 1) from error
    except BaseException:  # interrupted: the runs in flight were cancelled
        view.close()
        raise
    view.summary(outcomes, out)
    if not all(outcome.ok for outcome in outcomes):
        raise typer.Exit(1)


@contextlib.asynccontextmanager
async def _backend(
    server: str | None, api_key: str | None, data_dir: Path | None, concurrency: int
) -> AsyncIterator[Backend]:
    if server:
        async with ApiClient(server, api_key) as api:
            yield ServerBackend(api)
        return
    # Several documents: steps run in worker processes, as on a server, so conversions use
    # the cores given; one document: in a thread here, which spares the pool's start-up.
    processes = min(concurrency, os.cpu_count() or 1) if concurrency > 1 else 0
    async with Engine(data_dir, workers=concurrency, processes=processes) as engine:
        yield EngineBackend(engine)


async def _run_all(
    server: str | None,
    api_key: str | None,
    data_dir: Path | None,
    concurrency: int,
    pipeline: str,
    inputs: list[InputDocument],
    settings: RunSettings,
    out: Path,
    view: RunView,
) -> list[DocumentOutcome]:
    concurrency = min(concurrency, len(inputs))
    async with _backend(server, api_key, data_dir, concurrency) as backend:
        pipeline_id = await backend.prepare(pipeline)
        slots = asyncio.Semaphore(concurrency)

        async def bounded(document: InputDocument) -> DocumentOutcome:
            async with slots:
                return await _run_one(backend, pipeline_id, document, settings, out, view)

        return list(await asyncio.gather(*(bounded(d) for d in inputs)))


async def _run_one(
    backend: Backend,
    pipeline_id: str,
    document: InputDocument,
    settings: RunSettings,
    out: Path,
    view: RunView,
) -> DocumentOutcome:
    """Run one document to its end and write its results; any failure is its outcome."""
    outcome = DocumentOutcome(document.name, str(document.path))
    started = time.monotonic()
    execution_id = None
    try:
        execution_id = outcome.execution_id = await backend.submit(
            pipeline_id, document.path, settings
        )
        view.submitted(document, execution_id)
        final = None
        async for event, state in backend.follow(execution_id):
            final = state
            view.event(document, event, state)
        if final is not None:
            outcome.status = final.status
            outcome.steps = [
                StepOutcome(s.index, s.step_type, s.status, s.attempt, s.cache, s.error)
                for s in final.steps
            ]
        for step in outcome.steps:
            if step.status == "completed":
                target = document.result_file(out, step.index, step.step_type)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(await backend.result(execution_id, step.index))
                step.result_file = str(target)
    except asyncio.CancelledError:
        if execution_id is not None:  # interrupted: do not leave the run going
            with contextlib.suppress(Exception):
                await asyncio.shield(backend.cancel(execution_id))
        raise
    except (ApiError, PagemillError, ProcessingError, OSError) as error:
        outcome.status, outcome.error = "error", str(error)
    outcome.seconds = time.monotonic() - started
    view.finished(outcome)
    return outcome
