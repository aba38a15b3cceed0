"""Legacy workflows on the pipeline engine (see ``pagemill.domain.workflows``).

Creating a workflow creates one draft pipeline per root-to-leaf path of its steps (drafts are
not in the default pipeline listing). Executing it runs, for every input file, each path's
pipeline on the file — ordinary executions, with their leases, retries, cache, admission, rate
limits and tenancy. The execution status gathers them: each workflow step is reported from the
first path that contains it, per input file, with a signed URL of its output.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pagemill.domain.clock import Clock
from pagemill.domain.errors import Forbidden, InvalidInput, NotFound
from pagemill.domain.ids import new_public_number
from pagemill.domain.labels import check_description, check_name
from pagemill.domain.models import StepRun
from pagemill.domain.signing import sign_fields, verify_fields
from pagemill.domain.statuses import TERMINAL_EXECUTION, ExecutionStatus, StepStatus
from pagemill.domain.workflows import (
    FileRun,
    Workflow,
    WorkflowExecution,
    WorkflowPath,
    parse_workflow_steps,
    paths_of,
    pipeline_steps,
)
from pagemill.ports.ledger.workflows import WorkflowLedger
from pagemill.services.executions import ExecutionService, RunOptions, StoredDocument
from pagemill.services.pipelines import PipelineService

MAX_FILES = 50
OUTPUT_PURPOSE = "workflow-output"
INPUT_KEYS = frozenset({"file_urls", "bucket", "prefix", "pattern", "storage_type"})
# Step statuses as the workflows API spells them.
STEP_STATUS = {
    StepStatus.PENDING: "PENDING",
    StepStatus.DISPATCHED: "QUEUED",
    StepStatus.RUNNING: "IN_PROGRESS",
    StepStatus.COMPLETED: "COMPLETED",
    StepStatus.FAILED: "FAILED",
    StepStatus.SKIPPED: "SKIPPED",
    StepStatus.CANCELLED: "CANCELLED",
}


@dataclass(frozen=True, slots=True)
class StepOutput:
    """One workflow step on one input file: its status, and where its output is."""

    unique_name: str
    file_key: str  # the pipeline execution that ran it
    status: str
    started_at: datetime | None
    completed_at: datetime | None
    error: str | None
    step_index: int  # in that execution


@dataclass(frozen=True, slots=True)
class ExecutionReport:
    execution: WorkflowExecution
    status: str  # IN_PROGRESS | COMPLETED | FAILED
    updated: datetime | None
    steps: list[StepOutput]
    error: str | None


class WorkflowService:
    def __init__(
        self,
        workflows: WorkflowLedger,
        pipelines: PipelineService,
        executions: ExecutionService,
        clock: Clock,
        *,
        signing_secret: bytes,
        public_url: str | None = None,
        output_ttl_seconds: int = 3600,
    ) -> None:
        """``public_url``: the server's base URL for output URLs (else the request's own)."""
        self._workflows = workflows
        self._pipelines = pipelines
        self._executions = executions
        self._clock = clock
        self._secret = signing_secret
        self.public_url = public_url
        self.output_ttl_seconds = output_ttl_seconds

    # -- definitions -------------------------------------------------------------------------
    async def create(
        self, team_id: str, name: str, description: str | None, raw_steps: Any
    ) -> Workflow:
        clean_name = check_name(name)
        check_description(description)
        steps = parse_workflow_steps(raw_steps)
        paths = paths_of(steps)
        for path in paths:  # every path is checked before any pipeline is made
            try:
                self._pipelines.check_steps(pipeline_steps(steps, path))
            except InvalidInput as exc:
                raise InvalidInput(f"Path {' → '.join(path)}: {exc.detail}") from exc
        made: list[WorkflowPath] = []
        try:
            for path in paths:
                pipeline = await self._pipelines.create(team_id, pipeline_steps(steps, path))
                made.append(WorkflowPath(steps=path, pipeline_id=pipeline.pipeline_id))
            now = self._clock.now()
            return await self._workflows.create(
                Workflow(
                    workflow_id=new_public_number(),
                    team_id=team_id,
                    name=clean_name,
                    description=description,
                    steps=tuple(steps),
                    paths=tuple(made),
                    created=now,
                    updated=now,
                )
            )
        except BaseException:
            await self._archive_pipelines(team_id, made)
            raise

    async def get(self, team_id: str, workflow_id: int) -> Workflow:
        found = await self._workflows.get(team_id, workflow_id)
        if found is None:
            raise NotFound(f"Workflow {workflow_id} not found")
        return found

    async def list_all(self, team_id: str) -> list[Workflow]:
        return await self._workflows.list_all(team_id)

    async def delete(self, team_id: str, workflow_id: int) -> None:
        """Delete a workflow without executions (``Conflict`` otherwise); its pipelines are
        archived."""
        workflow = await self.get(team_id, workflow_id)
        if not await self._workflows.delete(team_id, workflow_id):
            raise NotFound(f"Workflow {workflow_id} not found")
        await self._archive_pipelines(team_id, workflow.paths)

    async def _archive_pipelines(
        self, team_id: str, paths: tuple[WorkflowPath, ...] | list[WorkflowPath]
    ) -> None:
        for path in paths:
            with contextlib.suppress(Exception):
                await self._pipelines.set_archived(team_id, path.pipeline_id, True)

    # -- executions --------------------------------------------------------------------------
    async def execute(
        self, team_id: str, workflow_id: int, input_config: Mapping[str, Any]
    ) -> WorkflowExecution:
        """Start every path's pipeline on every file of ``input_config.file_urls``."""
        urls = _file_urls(input_config)
        workflow = await self.get(team_id, workflow_id)
        documents: list[StoredDocument] = []
        started: list[str] = []
        consumed = 0  # documents handed to a run (which owns them from then on)
        try:
            for url in urls:  # every file is fetched before anything runs
                first = await self._executions.fetch(url, team_id)
                documents.append(first)
                for _ in workflow.paths[1:]:
                    documents.append(await self._executions.duplicate(first, team_id))
            runs: list[FileRun] = []
            pending = iter(documents)
            for url in urls:
                ids: list[str] = []
                for path in workflow.paths:
                    consumed += 1
                    view = await self._executions.run(
                        team_id, path.pipeline_id, RunOptions(version=0), next(pending)
                    )
                    ids.append(view.execution.execution_id)
                    started.append(view.execution.execution_id)
                runs.append(FileRun(file_url=url, execution_ids=tuple(ids)))
            return await self._workflows.add_execution(
                WorkflowExecution(
                    execution_id=new_public_number(),
                    workflow_id=workflow_id,
                    team_id=team_id,
                    input_config={"file_urls": urls},
                    runs=tuple(runs),
                    created=self._clock.now(),
                )
            )
        except BaseException:
            for document in documents[consumed:]:
                with contextlib.suppress(Exception):
                    await self._executions.discard(document)
            for execution_id in started:
                with contextlib.suppress(Exception):
                    await self._executions.cancel(team_id, execution_id)
            raise

    async def report(self, team_id: str, execution_id: int) -> ExecutionReport:
        execution = await self._workflows.get_execution(team_id, execution_id)
        if execution is None:
            raise NotFound(f"Workflow execution {execution_id} not found")
        workflow = await self.get(team_id, execution.workflow_id)
        owner: dict[str, tuple[int, int]] = {}  # step → (path, index in the path)
        for p, path in enumerate(workflow.paths):
            for index, name in enumerate(path.steps):
                owner.setdefault(name, (p, index))
        steps: list[StepOutput] = []
        statuses: list[ExecutionStatus] = []
        updated: datetime | None = None
        errors: list[str] = []
        for run in execution.runs:
            views = [await self._executions.get(team_id, eid) for eid in run.execution_ids]
            for view in views:
                statuses.append(view.execution.status)
                stamp = view.execution.completed_at or view.execution.started_at
                if stamp is not None and (updated is None or stamp > updated):
                    updated = stamp
            for step in workflow.steps:
                p, index = owner[step.unique_name]
                run_step: StepRun = views[p].steps[index]
                status = STEP_STATUS[run_step.status]
                if run_step.status is StepStatus.FAILED and run_step.error_message:
                    errors.append(f"{step.unique_name}: {run_step.error_message}")
                steps.append(
                    StepOutput(
                        unique_name=step.unique_name,
                        file_key=run.execution_ids[p],
                        status=status,
                        started_at=run_step.started_at,
                        completed_at=run_step.finished_at,
                        error=run_step.error_message,
                        step_index=index,
                    )
                )
        if not all(status in TERMINAL_EXECUTION for status in statuses):
            overall = "IN_PROGRESS"
        elif all(status is ExecutionStatus.COMPLETED for status in statuses):
            overall = "COMPLETED"
        else:
            overall = "FAILED"
        error = "; ".join(errors) if overall == "FAILED" and errors else None
        if overall == "FAILED" and error is None:
            error = "A path of the workflow did not complete (cancelled)."
        return ExecutionReport(execution, overall, updated or execution.created, steps, error)

    # -- step outputs ------------------------------------------------------------------------
    def output_signature(self, team_id: str, execution_id: str, step_index: int) -> tuple[int, str]:
        """``(expires, signature)`` of a URL that serves one step's output without a key."""
        expires = int(self._clock.now().timestamp()) + self.output_ttl_seconds
        fields = (team_id, execution_id, step_index)
        return expires, sign_fields(self._secret, OUTPUT_PURPOSE, fields, expires)

    async def signed_output(
        self, team_id: str, execution_id: str, step_index: int, expires: int, signature: str
    ) -> bytes | Mapping[str, Any]:
        """The output a signed URL names; ``NotFound`` for a bad or expired signature."""
        fields = (team_id, execution_id, step_index)
        now = self._clock.now().timestamp()
        if not verify_fields(self._secret, OUTPUT_PURPOSE, fields, expires, signature, now):
            raise Forbidden("The output URL is invalid, forged or expired.")
        return await self._executions.step_result(team_id, execution_id, step_index)


def _file_urls(input_config: Mapping[str, Any]) -> list[str]:
    unknown = sorted(set(input_config) - INPUT_KEYS)
    if unknown:
        raise InvalidInput(f"input_config: unknown key(s) {', '.join(map(repr, unknown))}.")
    bucket = [k for k in ("bucket", "prefix", "pattern", "storage_type") if input_config.get(k)]
    if bucket:
        raise InvalidInput(
            f"input_config: bucket enumeration ({', '.join(bucket)}) is not supported by "
            "pagemill; list the documents in file_urls (http(s) URLs or datalab://file-N "
            "references)."
        )
    urls = input_config.get("file_urls")
    if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
        raise InvalidInput("input_config.file_urls must be a non-empty list of URLs.")
    if len(urls) > MAX_FILES:
        raise InvalidInput(f"input_config.file_urls has at most {MAX_FILES} URLs.")
    return [u.strip() for u in urls]


def step_type_catalog(version: str) -> list[dict[str, Any]]:
    """The step types a workflow may use, with a JSON schema of their settings."""
    from pagemill.processors.convert.options import BOOL_SETTINGS, MODES
    from pagemill.processors.extract.processor import MODES as EXTRACTION_MODES

    convert: dict[str, Any] = {key: {"type": "boolean"} for key in BOOL_SETTINGS}
    convert.update(
        {
            "mode": {"type": "string", "enum": list(MODES)},
            "output_format": {"type": "string", "description": "markdown, html, json, chunks"},
            "page_range": {"type": "string", "description": "0-indexed, e.g. 0,2-4"},
            "max_pages": {"type": "integer", "minimum": 1},
            "additional_config": {"type": ["object", "string"]},
            "extras": {"type": "string", "description": "comma-separated"},
            "timeout_seconds": {"type": "number"},
        }
    )
    described = {
        "marker_parse": (
            "Parse",
            "Convert the input file to Markdown, HTML, JSON or chunks (the convert step).",
            convert,
        ),
        "marker_segment": (
            "Segment",
            "Split the parsed document into named segments (the segment step).",
            {
                "segmentation_schema": {
                    "type": ["object", "string"],
                    "description": 'segmentation_strategy "custom" with "segments", or '
                    '"document_boundary"/"auto" for automatic detection',
                },
                "timeout_seconds": {"type": "number"},
            },
        ),
        "marker_extract": (
            "Extract",
            "Fill a JSON schema from the parsed document or one segment (the extract step).",
            {
                "page_schema": {"type": ["object", "string"]},
                "schema_id": {"type": "string"},
                "schema_version": {"type": "integer"},
                "extraction_mode": {"type": "string", "enum": list(EXTRACTION_MODES)},
                "segment_reference": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}},
                },
                "timeout_seconds": {"type": "number"},
            },
        ),
    }
    return [
        {
            "type": key,
            "version": version,
            "name": name,
            "description": description,
            "settings_schema": {
                "type": "object",
                "properties": properties,
                "additionalProperties": False,
            },
        }
        for key, (name, description, properties) in described.items()
    ]
