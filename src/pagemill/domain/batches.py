"""Collections of a team's files, and batch runs of a pipeline over a collection.

A batch run copies the collection's list of files when it starts (``BatchItem`` rows, one per
file, numbered by ``position``), then executions are admitted a few at a time by a background
admitter. Each item moves ``pending`` → ``running`` (its execution exists) → ``completed`` |
``failed`` | ``cancelled``. A ``pending`` item may already carry the id its execution will have:
the admitter writes it before creating the execution, so that after a restart it can tell
whether the execution was created (then the item is ``running``) or not (it is created now,
under the same id) — a file is never run twice by one batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pagemill.domain.errors import InvalidInput
from pagemill.domain.statuses import ExecutionStatus

MAX_NAME = 200
MAX_DESCRIPTION = 2000
MAX_FILES_PER_REQUEST = 1000  # files added or removed by one request


class BatchStatus(StrEnum):
    PENDING = "pending"  # created; the admitter has not admitted anything yet
    RUNNING = "running"
    COMPLETED = "completed"  # every file finished, at least one of them successfully
    FAILED = "failed"  # every file failed
    CANCELLED = "cancelled"


class ItemStatus(StrEnum):
    PENDING = "pending"  # not admitted yet
    RUNNING = "running"  # its execution exists and has not finished
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL_BATCH = frozenset({BatchStatus.COMPLETED, BatchStatus.FAILED, BatchStatus.CANCELLED})
FINISHED_ITEM = frozenset({ItemStatus.COMPLETED, ItemStatus.FAILED, ItemStatus.CANCELLED})


@dataclass(frozen=True, slots=True)
class Collection:
    collection_id: int
    team_id: str
    name: str
    description: str | None
    file_count: int
    created: datetime
    updated: datetime


@dataclass(frozen=True, slots=True)
class BatchCounts:
    """How many items of a batch run are in each status."""

    pending: int = 0
    running: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0

    @property
    def total(self) -> int:
        return self.pending + self.running + self.completed + self.failed + self.cancelled

    @property
    def finished(self) -> int:
        return self.completed + self.failed + self.cancelled

    @classmethod
    def of(cls, by_status: dict[str, int]) -> BatchCounts:
        return cls(**{s.value: by_status.get(s.value, 0) for s in ItemStatus})


@dataclass(frozen=True, slots=True)
class NewBatchRun:
    team_id: str
    collection_id: int
    pipeline_id: str
    pipeline_version: int  # pinned at start: every file runs the same definition
    eval_rubric_id: int | None
    options: dict[str, Any]  # the run options every execution gets (page_range, …)


@dataclass(frozen=True, slots=True)
class BatchRun:
    run_id: int
    team_id: str
    collection_id: int
    pipeline_id: str
    pipeline_version: int
    eval_rubric_id: int | None
    options: dict[str, Any]
    status: BatchStatus
    total_files: int
    counts: BatchCounts
    avg_score: float | None
    created: datetime
    started_at: datetime | None
    completed_at: datetime | None
    cancel_requested: bool = False


@dataclass(frozen=True, slots=True)
class BatchItem:
    run_id: int
    position: int
    file_id: int
    filename: str
    status: ItemStatus
    execution_id: str | None
    eval_score: float | None
    eval_results: dict[str, Any] | None
    error_message: str | None
    created: datetime
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """How one item of a batch run ended."""

    position: int
    status: ItemStatus
    eval_score: float | None = None
    eval_results: dict[str, Any] | None = None
    error_message: str | None = None


def item_status_of(execution: ExecutionStatus) -> ItemStatus:
    """A finished execution's outcome as its item's status: ``completed_with_errors`` is a
    failure of that file (one of its steps failed)."""
    if execution is ExecutionStatus.COMPLETED:
        return ItemStatus.COMPLETED
    if execution is ExecutionStatus.CANCELLED:
        return ItemStatus.CANCELLED
    return ItemStatus.FAILED


def final_batch_status(counts: BatchCounts, cancel_requested: bool) -> BatchStatus:
    """The status of a batch run none of whose items is pending or running any more."""
    if cancel_requested:
        return BatchStatus.CANCELLED
    if counts.completed == 0 and counts.failed > 0:
        return BatchStatus.FAILED
    return BatchStatus.COMPLETED


def check_collection_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned or len(cleaned) > MAX_NAME:
        raise InvalidInput(f"name must be 1 to {MAX_NAME} characters.")
    return cleaned


def check_file_ids(file_ids: list[int]) -> list[int]:
    """The distinct ids, in the order given; at most ``MAX_FILES_PER_REQUEST``."""
    if not file_ids:
        raise InvalidInput("file_ids must name at least one file.")
    if len(file_ids) > MAX_FILES_PER_REQUEST:
        raise InvalidInput(
            f"file_ids names {len(file_ids)} files; send at most {MAX_FILES_PER_REQUEST} "
            "per request."
        )
    return list(dict.fromkeys(file_ids))
