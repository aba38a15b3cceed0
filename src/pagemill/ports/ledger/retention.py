"""The ledger's retention area: executions whose results expired, and deleting executions.

Blobs may be shared between executions (an executor cache hit reads the checkpoint of the
execution that did the work; a rerun reuses its parent's outputs), so the ledger, which knows
every reference, says which blobs nobody needs any more; the caller deletes exactly those,
after the transaction that released them committed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class ReleasedBlobs:
    """What an execution held that no other (unpurged) execution refers to."""

    execution_id: str
    team_id: str
    input_keys: list[str] = field(default_factory=list)
    result_keys: list[str] = field(default_factory=list)
    checkpoint_ids: list[str] = field(default_factory=list)


class BlobRole(StrEnum):
    """What a blob is to the ledger, which says in which rows its name can appear."""

    INPUT = "input"  # an execution's input (its upload, or its own copy of a file)
    RESULT = "result"  # a step's result
    CHECKPOINT = "checkpoint"  # a step's checkpoint, by checkpoint id


class RetentionLedger(ABC):
    @abstractmethod
    async def due(self, now: datetime, limit: int) -> list[str]:
        """Up to ``limit`` executions whose results expired by ``now`` and were not purged
        yet, the longest expired first."""

    @abstractmethod
    async def purge(self, execution_id: str, now: datetime) -> ReleasedBlobs | None:
        """Mark the expired execution purged (once: compare-and-set), forget its executor
        cache entries, and release its blobs. None when it is not due or was purged already
        (another sweeper won). The execution and its steps stay, to answer 410."""

    @abstractmethod
    async def delete(self, execution_id: str, team_id: str) -> ReleasedBlobs | None:
        """Remove a finished execution of the team with everything recorded about it (steps,
        results, executor cache entries, webhook deliveries, idempotency keys) in one
        transaction, and release its blobs. None when it is not the team's; ``Conflict`` while
        it is not finished."""

    @abstractmethod
    async def referenced(self, role: BlobRole, names: Sequence[str]) -> set[str]:
        """Which of ``names`` (blob keys; checkpoint ids for checkpoints) a row still needs:
        an execution that was not purged (its input, a step's result or checkpoint) or an
        executor cache entry. One indexed lookup; the orphan sweep
        deletes only what this leaves out."""
