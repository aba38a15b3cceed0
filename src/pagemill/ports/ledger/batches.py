"""The ledger's batch area: collections of a team's files, and batch runs over them.

A batch run's items are created from the collection inside the database (never loaded into
memory all at once), and every read of them is a bounded page, so a run of tens of thousands
of files costs the admitter and the API a constant amount of memory.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pagemill.domain.batches import BatchItem, BatchRun, Collection, ItemOutcome, NewBatchRun
from pagemill.domain.files import StoredFile
from pagemill.domain.statuses import ExecutionStatus


class CollectionLedger(ABC):
    @abstractmethod
    async def create(
        self, team_id: str, name: str, description: str | None, now: datetime
    ) -> Collection: ...

    @abstractmethod
    async def get(self, collection_id: int, team_id: str) -> Collection | None: ...

    @abstractmethod
    async def page(self, team_id: str, *, limit: int, offset: int) -> tuple[list[Collection], int]:
        """Newest first."""

    @abstractmethod
    async def delete(self, collection_id: int, team_id: str) -> bool:
        """Remove the collection and its links (not the files, nor batch runs made of it)."""

    @abstractmethod
    async def add_files(
        self, collection_id: int, team_id: str, file_ids: list[int], now: datetime
    ) -> tuple[int, list[int]] | None:
        """Link the team's files; ``(newly linked, ids that are not files of the team)``.
        Nothing is linked when some id is unknown. None: no such collection."""

    @abstractmethod
    async def remove_files(
        self, collection_id: int, team_id: str, file_ids: list[int], now: datetime
    ) -> int | None:
        """Unlink; how many links were removed. None: no such collection."""

    @abstractmethod
    async def files(
        self, collection_id: int, team_id: str, *, limit: int, offset: int
    ) -> tuple[list[StoredFile], int] | None:
        """The linked files that still exist, in the order they were added."""


class BatchRunLedger(ABC):
    # -- the API ---------------------------------------------------------------------------
    @abstractmethod
    async def create(self, new: NewBatchRun, now: datetime) -> BatchRun | None:
        """The run and one pending item per uploaded (``completed``) file of the collection;
        None: no such collection."""

    @abstractmethod
    async def get(self, run_id: int, team_id: str | None) -> BatchRun | None:
        """With its counts by status and average score; ``team_id=None``: the admitter."""

    @abstractmethod
    async def page(
        self, team_id: str, filters: dict[str, Any], *, limit: int, offset: int
    ) -> tuple[list[BatchRun], int]:
        """Newest first; ``filters``: ``collection_id``, ``eval_rubric_id``, ``pipeline_id``."""

    @abstractmethod
    async def items(
        self, run_id: int, team_id: str, *, limit: int, offset: int
    ) -> tuple[list[BatchItem], int] | None:
        """The run's items by position. None: no such run."""

    @abstractmethod
    async def cancel(self, run_id: int, team_id: str, now: datetime) -> BatchRun | None:
        """Mark it cancelled and its pending items cancelled; running items are wound down by
        the admitter. A finished run is returned unchanged."""

    # -- the admitter ------------------------------------------------------------------------
    @abstractmethod
    async def lease_unfinished(
        self, owner: str, now: datetime, lease_seconds: float, limit: int
    ) -> list[BatchRun]:
        """Take (or renew) the lease of up to ``limit`` runs that are not wound down yet and
        whose lease is free, expired or already ``owner``'s; the oldest first."""

    @abstractmethod
    async def release(self, owner: str) -> None:
        """Give up ``owner``'s leases (a clean shutdown: another process resumes at once)."""

    @abstractmethod
    async def pending(self, run_id: int, limit: int) -> list[BatchItem]:
        """The first ``limit`` pending items by position."""

    @abstractmethod
    async def reserve(self, run_id: int, position: int, execution_id: str) -> bool:
        """Record the id a pending item's execution will have (compare-and-set: only while
        it has none)."""

    @abstractmethod
    async def mark_running(self, run_id: int, position: int, now: datetime) -> bool:
        """A pending item whose execution now exists becomes running; True when it moved."""

    @abstractmethod
    async def finish_items(
        self, run_id: int, outcomes: Sequence[ItemOutcome], now: datetime
    ) -> int:
        """Pending or running items end, in one transaction; how many moved (each by
        compare-and-set: an item that ended already is left as it is)."""

    @abstractmethod
    async def finished_executions(
        self, run_id: int, limit: int
    ) -> list[tuple[BatchItem, ExecutionStatus | None]]:
        """Running items whose execution has finished, with the execution's status; None:
        the execution no longer exists (deleted)."""

    @abstractmethod
    async def running_executions(self, run_id: int, limit: int) -> list[str]:
        """The execution ids of running items whose execution has not finished."""

    @abstractmethod
    async def finalize(self, run_id: int, now: datetime) -> BatchRun | None:
        """When no item is pending or running: the final status and ``completed_at`` (one
        winner); None otherwise."""
