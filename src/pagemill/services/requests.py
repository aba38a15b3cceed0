"""Single-shot requests (``POST /api/v1/convert`` and friends) and the poll of a lookup key.

A single-shot request is an execution of one step (two when the request needs a parse first:
extract, segment or a custom processor of a file) that no saved pipeline holds; its
``pipeline_id`` is ``request:<endpoint>``. It runs on the same engine as every pipeline run —
leases, retries, the executor cache, admission, webhooks, tenancy — and its ``request_id`` is
the ``lookup_key`` of its last step. Every step of every execution has such a key, and
``poll`` answers them all the same way: the result of the step (merged over the results of the
steps before it, so an extract answer also carries the markdown it was extracted from), or
``{"status": "processing"}``, or the failure.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pagemill.domain.clock import Clock
from pagemill.domain.errors import InvalidInput, NotFound, ProcessingError
from pagemill.domain.models import StepRun
from pagemill.domain.pipelines import StepSpec
from pagemill.domain.statuses import StepStatus
from pagemill.ports.blobs import BlobStore
from pagemill.ports.compute import ComputePool, WorkerCrashed
from pagemill.ports.ledger.executions import ExecutionLedger
from pagemill.processors.registry import ProcessorRegistry
from pagemill.processors.thumbnails import check_thumb_width, thumbnails
from pagemill.services.executions import ExecutionService, RunOptions, StoredDocument
from pagemill.services.executor_cache import checkpoint_key

REQUEST_LABEL = "request:"  # the pipeline_id of a single-shot request's execution: + endpoint
ENDPOINTS = (
    "convert",
    "ocr",
    "extract",
    "segment",
    "custom-processor",
    "fill",
    "track-changes",
    "create-document",
    "marker",
)
DEFAULT_RETENTION_SECONDS = 3600.0
THUMBNAIL_TIMEOUT_SECONDS = 60.0
_ENDED = (StepStatus.FAILED, StepStatus.SKIPPED, StepStatus.CANCELLED)


@dataclass(frozen=True, slots=True)
class SingleShot:
    """What a request asks for: its steps (as a pipeline would list them) and run options;
    ``checkpoint_id`` replaces the document with an earlier convert's checkpoint."""

    endpoint: str
    steps: Sequence[Mapping[str, Any]]
    options: RunOptions = field(default_factory=RunOptions)
    checkpoint_id: str | None = None


@dataclass(frozen=True, slots=True)
class Submitted:
    request_id: str
    execution_id: str
    replayed: bool = False  # an earlier request's, sent with the same Idempotency-Key


class RequestService:
    def __init__(
        self,
        executions: ExecutionService,
        ledger: ExecutionLedger,
        blobs: BlobStore,
        processors: ProcessorRegistry,
        clock: Clock,
        *,
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
        public_url: str | None = None,
        compute: ComputePool | None = None,
        poll_wait_seconds: float = 0.0,
    ) -> None:
        """``public_url``: the base of ``request_check_url`` (None: the request's own);
        ``poll_wait_seconds``: how long a poll of a running request waits for it to end before
        it answers "processing";
        ``compute``: where thumbnails are drawn (None: a thread of this process). A document
        is never rendered in the API process when a pool is given: a hostile file could crash
        its native renderer."""
        self._executions = executions
        self._ledger = ledger
        self._blobs = blobs
        self._processors = processors
        self._clock = clock
        self.retention = timedelta(seconds=retention_seconds)
        self.public_url = public_url
        self._compute = compute
        self._poll_wait_seconds = poll_wait_seconds

    async def checkpoint_document(self, team_id: str, checkpoint_id: str) -> StoredDocument:
        """An earlier convert's checkpoint as the input of a request (no re-parse): 404 when
        it is not one of the team's, or is gone."""
        owned = len(checkpoint_id) <= 200 and await self._ledger.checkpoint_owned(
            checkpoint_id, team_id
        )
        key = checkpoint_key(checkpoint_id)
        try:
            if not owned:
                raise NotFound(key)
            size = len(await self._blobs.read_bytes(key))
        except NotFound:
            raise NotFound(f"Checkpoint {checkpoint_id} not found or expired") from None
        return StoredDocument(
            key=key,
            filename=f"{checkpoint_id}.json",
            content_type="application/json",
            size=max(1, size),
            sha256="",  # no executor-cache key: the checkpoint is the work being reused
            borrowed=True,
        )

    async def submit(self, team_id: str, shot: SingleShot, document: StoredDocument) -> Submitted:
        """Create the request's execution; the document is consumed."""
        steps = [
            StepSpec(type=str(raw["type"]), settings=dict(raw.get("settings") or {}), raw=raw)
            for raw in shot.steps
        ]
        extra: dict[str, Any] = {"request": shot.endpoint}
        if shot.checkpoint_id is not None:
            extra["checkpoint_id"] = shot.checkpoint_id
        view = await self._executions.run_steps(
            team_id,
            REQUEST_LABEL + shot.endpoint,
            steps,
            shot.options,
            document,
            input_extra=extra,
            # The sweeper removes a request's stored results once its poll answers "expired".
            retention_seconds=max(1, round(self.retention.total_seconds())),
        )
        return Submitted(view.steps[-1].lookup_key, view.execution.execution_id, view.replayed)

    async def poll(self, team_id: str, request_id: str) -> dict[str, Any]:
        """The answer to ``GET /api/v1/{endpoint}/{request_id}`` for any lookup key."""
        found = await self._ledger.by_lookup_key(request_id, team_id) if request_id else None
        if found is None:
            raise _gone(request_id)
        execution_id, index = found
        if self._poll_wait_seconds > 0:
            await self._executions.await_step(execution_id, index, self._poll_wait_seconds)
        view = await self._executions.get(team_id, execution_id)
        steps = view.steps
        step = steps[index]
        if step.status is StepStatus.COMPLETED and any(
            s.result_key is None for s in steps[: index + 1]
        ):  # the live store said completed before the ledger row was read
            steps = await self._ledger.steps(execution_id)
            step = steps[index]
        ended = step.finished_at or view.execution.completed_at
        if ended is not None and self._clock.now() - ended > self.retention:
            raise _gone(request_id)
        if step.status is StepStatus.COMPLETED:
            body = await self._merged_result(steps[: index + 1], request_id)
            if view.execution.rate_breakdown is not None:
                body["cost_breakdown"] = view.execution.rate_breakdown
            return body
        if step.status in _ENDED:
            return _failure(steps, index, request_id)
        return {"status": "processing", "success": True, "request_id": request_id}

    async def _merged_result(self, steps: Sequence[StepRun], request_id: str) -> dict[str, Any]:
        keys = [s.result_key for s in steps if s.result_key]
        try:
            blobs = await asyncio.gather(*(self._blobs.read_bytes(k) for k in keys))
        except NotFound as exc:
            raise _gone(request_id) from exc
        body: dict[str, Any] = {}
        for data in blobs:
            result = json.loads(data)
            if isinstance(result, dict):
                # A later step's null (an extract's checkpoint_id) hides nothing earlier.
                body.update((k, v) for k, v in result.items() if v is not None or k not in body)
        body.update(
            status="complete",
            success=body.get("success", True) is not False,
            request_id=request_id,
            versions={s.step_type: self._version(s.step_type) for s in steps},
        )
        body.pop("lookup_key", None)
        body.setdefault("error", None)
        return body

    def _version(self, step_type: str) -> str | None:
        try:
            return self._processors.get(step_type).version
        except Exception:  # a processor this server no longer has
            return None

    async def thumbnails(
        self, team_id: str, lookup_key: str, page_range: str | None, thumb_width: Any
    ) -> list[str]:
        """Base64 JPEG thumbnails of the pages of the document a request (or a pipeline step)
        worked on."""
        width = check_thumb_width(thumb_width)
        found = await self._ledger.by_lookup_key(lookup_key, team_id) if lookup_key else None
        if found is None:
            raise _gone(lookup_key)
        execution = await self._ledger.get(found[0], team_id)
        if execution is None:
            raise _gone(lookup_key)
        if execution.input_config.get("checkpoint_id") or execution.input_config.get("request") in (
            "create-document",
        ):
            raise InvalidInput(
                f"Request {lookup_key} has no document pages to draw (its input is not a document)."
            )
        async with self._blobs.local_path(execution.input_key) as path:
            draw = functools.partial(thumbnails, path, page_range=page_range, thumb_width=width)
            if self._compute is None:
                return await asyncio.to_thread(draw)
            try:
                return await self._compute.run(draw, timeout=THUMBNAIL_TIMEOUT_SECONDS)
            except TimeoutError:
                raise ProcessingError(
                    f"The thumbnails took longer than {THUMBNAIL_TIMEOUT_SECONDS:g} s to draw."
                ) from None
            except (WorkerCrashed, MemoryError):
                raise ProcessingError(
                    "Drawing this document's pages crashed its renderer (or exhausted its memory)."
                ) from None


def _gone(request_id: str) -> NotFound:
    return NotFound(f"Request {request_id} not found or expired")


def _failure(steps: Sequence[StepRun], index: int, request_id: str) -> dict[str, Any]:
    """A step that will never complete: the first failure up to it says why."""
    step = steps[index]
    failed = next(
        (s for s in steps[: index + 1] if s.status is StepStatus.FAILED),
        None,
    )
    cancelled = any(s.status is StepStatus.CANCELLED for s in steps[: index + 1])
    if failed is not None:
        error = failed.error_message or f"The {failed.step_type} step failed."
    elif cancelled:
        error = "The request was cancelled."
    else:
        error = step.error_message or f"The {step.step_type} step was {step.status.value}."
    return {
        "status": "failed",
        "success": False,
        "error": error,
        "error_in": "OTHER",
        "request_id": request_id,
        # Extension: how it ended exactly (failed, skipped or cancelled).
        "step_status": step.status.value,
        "cancelled": cancelled and failed is None,
    }
