"""What a new execution will be: the steps and settings it runs with, its snapshot of the
pipeline and of the request, and how long its results are kept. Nothing is written here: the
execution service creates what these plans describe."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pagemill.domain.errors import InvalidInput
from pagemill.domain.eval_rubrics import EVAL_KEY
from pagemill.domain.ids import new_execution_id
from pagemill.domain.models import NewExecution, Pipeline
from pagemill.domain.page_ranges import parse_page_range
from pagemill.domain.pipelines import StepSpec, parse_steps, select_version
from pagemill.domain.webhooks import check_webhook_url, parse_webhook_events
from pagemill.ports.ledger.catalog import PipelineCatalog
from pagemill.processors.registry import ProcessorRegistry
from pagemill.services.execution_types import (
    EvalHook,
    RunOptions,
    StepSettingsHook,
    StoredDocument,
    check_output_format,
)
from pagemill.services.retention import RetentionPolicy


class ExecutionPlanner:
    def __init__(
        self,
        pipelines: PipelineCatalog,
        processors: ProcessorRegistry,
        max_attempts: int,
        step_settings_hook: StepSettingsHook | None = None,
        retention: RetentionPolicy | None = None,
        eval_hook: EvalHook | None = None,
    ) -> None:
        self._pipelines = pipelines
        self._processors = processors
        self._max_attempts = max_attempts
        self._step_settings_hook = step_settings_hook
        self._retention = retention
        self._eval_hook = eval_hook

    async def for_pipeline(
        self, team_id: str, pipeline: Pipeline, options: RunOptions, document: StoredDocument
    ) -> NewExecution:
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
        retention = (
            await self._retention.for_run(team_id, pipeline)
            if self._retention is not None
            else (None, None)
        )
        return await self.for_steps(
            team_id, pipeline.pipeline_id, version, steps, options, document, {}, retention
        )

    async def for_steps(
        self,
        team_id: str,
        pipeline_id: str,
        version: int,
        steps: Sequence[StepSpec],
        options: RunOptions,
        document: StoredDocument,
        input_extra: Mapping[str, Any],
        retention_and_source: tuple[int | None, str | None],
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
        retention, retention_set_by = retention_and_source
        overrides = {
            "page_range": options.page_range,
            "output_format": options.output_format,
            "skip_cache": options.skip_cache,
            "run_evals": options.run_evals,
        }
        return NewExecution(
            execution_id=new_execution_id(),
            team_id=team_id,
            pipeline_id=pipeline_id,
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
                **({"retention_set_by": retention_set_by} if retention is not None else {}),
                **input_extra,
            },
            step_types=[s.type for s in steps],
            step_settings=await self._step_settings(team_id, steps, options.run_evals),
            max_attempts=self._max_attempts,
            retention_seconds=retention,
        )

    async def _step_settings(
        self, team_id: str, steps: Sequence[StepSpec], run_evals: bool
    ) -> list[dict[str, Any]]:
        """The settings each step runs with; the hook freezes what a run must not look up later
        (a custom step's definition, an extract step's saved schema) and, with ``run_evals``,
        the eval rubric a step names (under ``EVAL_KEY``, which the step runner takes out)."""
        if self._step_settings_hook is None:
            settings = [dict(s.settings) for s in steps]
        else:
            settings = await self._step_settings_hook(team_id, steps)
        if run_evals:
            if self._eval_hook is None:
                raise InvalidInput("run_evals: this server does not run evaluations.")
            rubrics = await self._eval_hook(team_id, steps)
            for step_settings, rubric in zip(settings, rubrics, strict=True):
                if rubric is not None:
                    step_settings[EVAL_KEY] = rubric
        return settings
