"""The ledger's execution area: create, read (the head first), list, cancel, count.

Methods that read team-owned rows take the team: rows of another team are simply not found.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime

from pagemill.domain.models import (
    Execution,
    ExecutionHead,
    ExecutionSnapshot,
    NewExecution,
    StepRun,
)
from pagemill.domain.statuses import ExecutionStatus


@dataclass(frozen=True, slots=True)
class ExecutionCursor:
    """Where a page of executions, newest first, ended: the last one's creation time and id
    (the id orders executions created at the same instant)."""

    created: datetime
    execution_id: str


class ExecutionLedger(ABC):
    @abstractmethod
    async def create(self, new: NewExecution, now: datetime) -> ExecutionSnapshot:
        """Insert the execution and its steps; its first step is dispatched in the same
        transaction. A rerun's ``reused`` steps come before it, completed with the parent's
        outputs (each with its result recorded), shown with cache status ``reused``.

        With ``new.idempotency``, the key is recorded in the same transaction. When the team
        holds that key already (not expired), nothing is inserted: the execution it names is
        returned (the caller tells by its id) if the fingerprints match, else
        ``IdempotencyMismatch`` is raised. Concurrent calls with one key agree on one winner.
        """

    @abstractmethod
    async def head(self, execution_id: str, team_id: str) -> ExecutionHead | None:
        """Just the status and seq: what the "get execution" decision rule needs first."""

    @abstractmethod
    async def get(self, execution_id: str, team_id: str | None = None) -> Execution | None:
        """Primary-key read; ``team_id=None`` is for the step runner only."""

    @abstractmethod
    async def steps(self, execution_id: str) -> list[StepRun]: ...

    @abstractmethod
    async def page(
        self, team_id: str, pipeline_id: str, *, limit: int, offset: int
    ) -> tuple[list[ExecutionSnapshot], int]:
        """The pipeline's executions, newest first, and their count."""

    @abstractmethod
    async def recent(
        self,
        team_id: str,
        *,
        pipeline_id: str | None = None,
        status: ExecutionStatus | None = None,
        before: ExecutionCursor | None = None,
        limit: int,
    ) -> list[ExecutionSnapshot]:
        """Up to ``limit`` of the team's executions across its pipelines, newest first (by
        creation, then id, both descending), only those of ``pipeline_id`` and in ``status``
        when given, and only those after ``before`` in that order (the cursor of the last one
        of the previous page). Read through an index: the cost of a page does not grow with
        the team's history."""

    @abstractmethod
    async def cancel(
        self, execution_id: str, team_id: str, now: datetime, rates: dict[str, int]
    ) -> ExecutionSnapshot | None:
        """Cancel steps not started yet, flag running ones; finalize when none is running.
        None when the execution is not the team's; a terminal execution is left as it is."""

    @abstractmethod
    async def by_lookup_key(self, lookup_key: str, team_id: str) -> tuple[str, int] | None:
        """The execution id and step index of the team's step with ``lookup_key`` (the
        ``request_id`` of a single-shot request); None for another team's or an unknown key."""

    @abstractmethod
    async def checkpoint_owned(self, checkpoint_id: str, team_id: str) -> bool:
        """Whether a step of one of the team's executions recorded ``checkpoint_id``."""

    @abstractmethod
    async def count_results(self, execution_id: str, step_index: int) -> int:
        """How many results were ever recorded for a step (exactly one once it completed)."""

    @abstractmethod
    async def pages_in_flight(self, team_id: str) -> int:
        """The submit-time page counts (``input_config.page_count_at_submit``) of the team's
        executions that are not finished, summed."""

    @abstractmethod
    async def counts(self) -> dict[str, int]:
        """Executions by status, across teams (for metrics)."""
