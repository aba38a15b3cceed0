"""What an attempt of a step does: reuse identical earlier work of the team, or run the
processor, in the process pool when it is CPU-heavy, reporting progress through a file."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import tempfile
from pathlib import Path
from typing import Any

from pagemill.domain.errors import InvalidInput
from pagemill.domain.eval_rubrics import EVAL_KEY, parse_eval_definition
from pagemill.domain.models import Claim, StepRef
from pagemill.ports.blobs import BlobStore
from pagemill.ports.compute import ComputePool
from pagemill.ports.ledger.steps import StepLedger
from pagemill.ports.processing import ProcessorInput, ProcessorOutput
from pagemill.processors import progress as progress_file
from pagemill.processors.evaluation import evaluate
from pagemill.processors.registry import ProcessorRegistry
from pagemill.services.executor_cache import ExecutorCache, Reusable, checkpoint_key


def with_evaluation(output: ProcessorOutput, rubric: dict[str, Any]) -> ProcessorOutput:
    """``output`` with the ``evaluation`` object of the frozen ``rubric`` in its result (the
    rubric's id and version added, an extension). A definition that no longer parses (it was
    checked when stored) is reported in the evaluation rather than failing the step's work."""
    try:
        definition = parse_eval_definition(rubric.get("definition"))
    except InvalidInput as error:
        evaluation: dict[str, Any] = {"error": f"The eval rubric is not valid: {error.detail}"}
    else:
        evaluation = evaluate(definition, output.result, definition.name or rubric.get("name"))
    evaluation["eval_rubric_id"] = rubric.get("id")
    evaluation["eval_rubric_version"] = rubric.get("version")
    return dataclasses.replace(output, result={**output.result, "evaluation": evaluation})


def result_key(ref: StepRef) -> str:
    # Attempt-scoped: a late attempt can never overwrite the result the ledger points at.
    # Filed under the id's last two (random) characters, not a directory per execution and
    # step: creating two directories per execution cost more than writing the result.
    execution_id = ref.execution_id
    return f"results/{execution_id[-2:]}/{execution_id}.{ref.step_index}.{ref.attempt}.json"


class StepWork:
    def __init__(
        self,
        steps: StepLedger,
        blobs: BlobStore,
        compute: ComputePool,
        processors: ProcessorRegistry,
        slice_pages: int = 0,
    ) -> None:
        """``slice_pages``: a longer document's pages are read in parallel slices of at most
        this many pages where its processor can split it (``Processor.run_sliced``); 0: never."""
        self._slice_pages = slice_pages
        self._blobs = blobs
        self._compute = compute
        self._processors = processors
        self._cache = ExecutorCache(steps, blobs, processors)
        # Progress files of steps running on this machine (see ``processors.progress``); the
        # names are unique per attempt, so processes on one machine can share the directory.
        self._progress_dir = Path(tempfile.gettempdir()) / "pagemill-progress"
        self._progress_dir.mkdir(exist_ok=True)

    def cache_key(self, claim: Claim) -> str | None:
        """The executor cache's key of the claimed step's work; None when it cannot be keyed."""
        return self._cache.key_for(claim)

    async def do(
        self, claim: Claim, cache_key: str | None, bypass: bool
    ) -> ProcessorOutput | Reusable:
        """Identical earlier work of the team when the cache has it, else the processor's."""
        if cache_key is not None and not bypass:
            reusable = await self._cache.find(claim.execution.team_id, cache_key)
            if reusable is not None:
                return reusable
        return await self._process(claim)

    def progress(self, ref: StepRef) -> dict[str, Any] | None:
        """What the processor last reported of the attempt's progress, if anything."""
        return progress_file.read(self._progress_path(ref))

    async def _process(self, claim: Claim) -> ProcessorOutput:
        step, execution = claim.step, claim.execution
        processor = self._processors.get(step.step_type)
        config = execution.input_config
        settings = dict(step.settings)
        rubric = settings.pop(EVAL_KEY, None)  # the run's eval rubric: not the processor's
        async with contextlib.AsyncExitStack() as stack:
            document = await stack.enter_async_context(self._blobs.local_path(execution.input_key))
            # The previous step's checkpoint; for the first step, the one a single-shot
            # request named (``checkpoint_id``: an earlier convert, not parsed again).
            upstream = (
                claim.upstream.checkpoint_id
                if claim.upstream is not None
                else config.get("checkpoint_id")
            )
            checkpoint = None
            if isinstance(upstream, str) and upstream:
                checkpoint = await stack.enter_async_context(
                    self._blobs.local_path(checkpoint_key(upstream))
                )
            job = ProcessorInput(
                document=document,
                filename=str(config.get("filename") or "document"),
                settings=settings,
                page_range=config.get("page_range"),
                output_format=config.get("output_format") if step.step_type == "convert" else None,
                checkpoint=checkpoint,
                progress_file=self._progress_path(step.ref),
            )
            try:
                if processor.cpu_heavy:
                    sliced = await processor.run_sliced(job, self._compute, self._slice_pages)
                    if sliced is not None:
                        output = sliced
                    else:
                        output = await self._compute.run(processor.run, job)
                else:
                    output = await asyncio.to_thread(processor.run, job)
            finally:
                self._progress_path(step.ref).unlink(missing_ok=True)
        if isinstance(rubric, dict):
            return await asyncio.to_thread(with_evaluation, output, rubric)
        return output

    def _progress_path(self, ref: StepRef) -> Path:
        return self._progress_dir / f"{ref.execution_id}.{ref.step_index}.{ref.attempt}.json"

    async def write_result(self, ref: StepRef, payload: dict[str, Any]) -> tuple[str, int]:
        """Store an attempt's result; its key and size."""
        key = result_key(ref)
        data = json.dumps(payload, ensure_ascii=False).encode()
        await self._blobs.write_bytes(key, data)
        return key, len(data)
