"""Where ``pagemill run`` runs a pipeline: on a server (its HTTP API) or on the embedded
engine in this process. Both take a pipeline (a file of steps or an id), start runs, follow
them as events and hand back each step's stored result."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pagemill.cli.client import ApiClient
from pagemill.cli.events import Event, changes
from pagemill.cli.follow import follow
from pagemill.domain.errors import InvalidInput
from pagemill.library import Engine, Pipeline, RunProgress
from pagemill.library.pipeline import read_steps

PIPELINE_PREFIX = "pl_"


@dataclass(frozen=True, slots=True)
class RunSettings:
    """The run-level options of ``pagemill run``, the same for every document."""

    page_range: str | None = None
    output_format: str | None = None
    skip_cache: bool = False
    version: int | None = None


def pipeline_file(pipeline: str) -> Path | None:
    """The file ``pipeline`` names, None for a pipeline id; ``InvalidInput`` for neither."""
    path = Path(pipeline)
    if path.is_file():
        return path
    if pipeline.startswith(PIPELINE_PREFIX):
        return None
    raise InvalidInput(
        f"PIPELINE {pipeline!r} is neither a file of steps (YAML or JSON) nor a pipeline id "
        f"({PIPELINE_PREFIX}…)."
    )


class Backend(Protocol):
    async def prepare(self, pipeline: str) -> str:
        """The id to run ``pipeline`` (a file of steps, stored first, or an id) by."""

    async def submit(self, pipeline_id: str, document: Path, settings: RunSettings) -> str:
        """Start a run of the document; its execution id."""

    def follow(self, execution_id: str) -> AsyncIterator[tuple[Event, RunProgress]]:
        """The run's events, each with the state after it, until it ends."""

    async def result(self, execution_id: str, step_index: int) -> bytes:
        """A completed step's stored result (JSON)."""

    async def cancel(self, execution_id: str) -> None: ...


class ServerBackend:
    def __init__(self, api: ApiClient) -> None:
        self._api = api

    async def prepare(self, pipeline: str) -> str:
        file = pipeline_file(pipeline)
        if file is None:
            return str((await self._api.get_pipeline(pipeline))["pipeline_id"])
        # An unsaved draft, like the SDK's one-off runs: `pipelines list --all` shows it.
        return str((await self._api.create_pipeline(read_steps(file)))["pipeline_id"])

    async def submit(self, pipeline_id: str, document: Path, settings: RunSettings) -> str:
        form = {
            "page_range": settings.page_range,
            "output_format": settings.output_format,
            "skip_cache": "true" if settings.skip_cache else None,
            "version": str(settings.version) if settings.version is not None else None,
        }
        return str((await self._api.run(pipeline_id, document, form))["execution_id"])

    def follow(self, execution_id: str) -> AsyncIterator[tuple[Event, RunProgress]]:
        return follow(self._api, execution_id)

    async def result(self, execution_id: str, step_index: int) -> bytes:
        return await self._api.step_result(execution_id, step_index)

    async def cancel(self, execution_id: str) -> None:
        await self._api.cancel(execution_id)


class EngineBackend:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def prepare(self, pipeline: str) -> str:
        file = pipeline_file(pipeline)
        if file is None:
            return await self._engine.pipeline_id(pipeline)
        return await self._engine.pipeline_id(Pipeline.from_file(file))

    async def submit(self, pipeline_id: str, document: Path, settings: RunSettings) -> str:
        return await self._engine.submit(
            pipeline_id,
            document,
            page_range=settings.page_range,
            output_format=settings.output_format,
            skip_cache=settings.skip_cache,
            version=settings.version,
        )

    async def follow(self, execution_id: str) -> AsyncIterator[tuple[Event, RunProgress]]:
        last: RunProgress | None = None
        async for state in self._engine.follow(execution_id):
            for event in changes(last, state):
                yield event, state
            last = state

    async def result(self, execution_id: str, step_index: int) -> bytes:
        found = await self._engine.step_result(execution_id, step_index)
        if found is None:
            raise InvalidInput(f"Step {step_index} of {execution_id} has no result.")
        return found

    async def cancel(self, execution_id: str) -> None:
        await self._engine.cancel(execution_id)
