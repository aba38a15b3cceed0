"""An execution's provenance: what went in, how it was configured, what produced each step's
result (processor, libraries, worker, attempt), and where reused results came from.

Everything comes from what the run recorded: the ledger (input hash, configuration, the frozen
settings each step ran with, attempts, cache outcomes) and each result's ``provenance`` (written
with it by the worker that made it). The attempts that did not produce the result (failures,
lost workers, hand-backs) are told from the live store's event log while it lasts.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from pagemill.domain.clock import utc
from pagemill.domain.errors import NotFound
from pagemill.domain.events import StepState, iso, step_states
from pagemill.domain.models import Execution, StepRun
from pagemill.domain.statuses import StepStatus
from pagemill.ports.blobs import BlobStore
from pagemill.ports.ledger.executions import ExecutionLedger
from pagemill.ports.live import LiveStore

log = logging.getLogger("pagemill.provenance")

_INPUT_FIELDS = (
    "sha256",
    "filename",
    "content_type",
    "file_size",
    "file_url",
    "page_range",
    "page_count_at_submit",
)
LOG_READS = 20  # pages of 100 log entries read at most


@dataclass(slots=True)
class _Attempt:
    attempt: int
    worker: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    outcome: str | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "attempt": self.attempt,
            "worker": self.worker,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "outcome": self.outcome,
            "error": self.error,
        }


@dataclass(slots=True)
class _History:
    """The attempts of each step as the live log tells them (empty once it expired)."""

    complete: bool = False  # the log goes back to the execution's creation
    attempts: dict[int, dict[int, _Attempt]] = field(default_factory=dict)

    def see(self, index: int, state: StepState) -> None:
        if state.attempt <= 0:
            return
        attempts = self.attempts.setdefault(index, {})
        record = attempts.setdefault(state.attempt, _Attempt(state.attempt))
        for earlier in attempts.values():
            if earlier.attempt < state.attempt and earlier.outcome in (None, "running"):
                earlier.outcome = "retried"  # a later attempt exists: this one ended without
                earlier.error = earlier.error or state.error
        if state.status is StepStatus.RUNNING:
            record.worker = state.worker or record.worker
            record.started_at = iso(state.started_at) or record.started_at
            record.outcome = "running"
        elif state.status in (StepStatus.COMPLETED, StepStatus.FAILED, StepStatus.CANCELLED):
            record.outcome = state.status.value
            record.started_at = record.started_at or iso(state.started_at)
            record.finished_at = iso(state.finished_at)
            if state.status is StepStatus.FAILED:
                record.error = state.error
        elif record.outcome is None:
            record.outcome = "queued"


class ProvenanceService:
    def __init__(self, executions: ExecutionLedger, live: LiveStore, blobs: BlobStore) -> None:
        self._executions = executions
        self._live = live
        self._blobs = blobs

    async def provenance(self, team_id: str, execution_id: str) -> dict[str, Any]:
        execution = await self._executions.get(execution_id, team_id)
        if execution is None:
            raise NotFound(f"Execution {execution_id} not found")
        steps = await self._executions.steps(execution_id)
        history = await self._history(execution_id)
        for index, state in enumerate(step_states(steps)):  # the ledger has the last word
            history.see(index, state)
        return {
            "execution_id": execution.execution_id,
            "pipeline_id": execution.pipeline_id,
            "pipeline_version": execution.pipeline_version,
            "status": execution.status.value,
            "created": _iso(execution.created),
            "started_at": _iso(execution.started_at),
            "completed_at": _iso(execution.completed_at),
            "input": _input(execution),
            "config_snapshot": execution.config_snapshot,
            "attempt_history": "complete" if history.complete else "partial",
            "steps": [await self._step(step, history) for step in steps],
        }

    async def _step(self, step: StepRun, history: _History) -> dict[str, Any]:
        produced = await self._produced_by(step)
        cache = step.cache or None
        reused_from = None
        if cache is not None and cache.get("status") == "hit":
            reused_from = {
                "execution_id": cache.get("source_execution_id"),
                "step_index": cache.get("source_step_index"),
                "provenance": (produced or {}).get("reused"),
            }
        attempts = [
            a.as_dict() for _, a in sorted(history.attempts.get(step.step_index, {}).items())
        ]
        if produced is not None and not any(a["attempt"] == step.attempt for a in attempts):
            attempts.append(
                {
                    "attempt": step.attempt,
                    "worker": produced.get("worker"),
                    "started_at": produced.get("started_at"),
                    "finished_at": produced.get("finished_at"),
                    "outcome": "completed",
                    "error": None,
                }
            )
        elif produced is not None:
            for record in attempts:  # the result's record names the worker even after expiry
                if record["attempt"] == step.attempt:
                    record["worker"] = record["worker"] or produced.get("worker")
        return {
            "step_index": step.step_index,
            "step_type": step.step_type,
            "status": step.status.value,
            "lookup_key": step.lookup_key,
            "settings": step.settings,
            "attempts": step.attempt,
            "max_attempts": step.max_attempts,
            "attempt_log": attempts,
            "error_message": step.error_message,
            "checkpoint_id": step.checkpoint_id,
            "cache": cache,
            "reused_from": reused_from,
            "produced_by": _producer(produced),
            "started_at": _iso(step.started_at),
            "finished_at": _iso(step.finished_at),
        }

    async def _produced_by(self, step: StepRun) -> dict[str, Any] | None:
        """The ``provenance`` the worker stored with the step's result, if any."""
        if step.status is not StepStatus.COMPLETED or not step.result_key:
            return None
        try:
            payload = json.loads(await self._blobs.read_bytes(step.result_key))
        except NotFound:
            return None  # the result expired or was deleted: the ledger's facts remain
        except ValueError:
            log.warning("unreadable result %s", step.result_key)
            return None
        recorded = payload.get("provenance") if isinstance(payload, dict) else None
        return recorded if isinstance(recorded, dict) else None

    async def _history(self, execution_id: str) -> _History:
        history = _History()
        after: str | None = None
        first = True
        try:
            for _ in range(LOG_READS):
                entries = await self._live.events(execution_id, after, 100)
                if first:
                    history.complete = bool(entries) and entries[0].id == "1-0"
                    first = False
                for entry in entries:
                    for index, state in enumerate(entry.steps or ()):
                        history.see(index, state)
                if len(entries) < 100:
                    break
                after = entries[-1].id
        except Exception:  # the live store is a cache: without it, the ledger's facts remain
            log.warning("live store read failed", exc_info=True)
            history.complete = False
        return history


def _input(execution: Execution) -> dict[str, Any]:
    config = execution.input_config
    found = {name: config.get(name) for name in _INPUT_FIELDS}
    found["input_sha256"] = found.pop("sha256")
    found["page_count"] = execution.page_count
    return found


def _producer(produced: dict[str, Any] | None) -> dict[str, Any] | None:
    if produced is None:
        return None
    keys = ("step_type", "processor_version", "pagemill_version", "python_version", "libraries")
    return {key: produced.get(key) for key in keys}


def _iso(value: Any) -> str | None:
    return utc(value).isoformat().replace("+00:00", "Z") if value is not None else None
