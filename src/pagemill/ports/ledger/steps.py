"""The ledger's step area: claim, heartbeat, complete, fail, release, and reaping lost leases.

Every transition is a compare-and-set on the attempt (fencing): a worker that lost its lease
finds nothing to change. Each method that changes an execution returns the snapshot it
committed, so that the caller can mirror it into the live store; None means nothing changed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime

from pagemill.domain.models import (
    CacheEntry,
    Claim,
    ExecutionSnapshot,
    Heartbeat,
    StepOutput,
    StepRef,
    StepRun,
    StuckSteps,
)


class StepLedger(ABC):
    # -- claiming ----------------------------------------------------------------------------
    @abstractmethod
    async def claim_next(
        self, worker: str, now: datetime, lease_seconds: float, step_types: Sequence[str] | None
    ) -> Claim | None:
        """Claim the oldest dispatched step that is due (embedded delivery)."""

    @abstractmethod
    async def claim(
        self, ref: StepRef, worker: str, now: datetime, lease_seconds: float
    ) -> Claim | None:
        """Claim exactly this attempt (queue delivery); None when stale, duplicate or cancelled."""

    @abstractmethod
    async def next_due(self, step_types: Sequence[str] | None) -> datetime | None:
        """When the earliest dispatched step becomes due (None: nothing is dispatched)."""

    # -- a running attempt -------------------------------------------------------------------
    @abstractmethod
    async def heartbeat(
        self, ref: StepRef, worker: str, now: datetime, lease_seconds: float
    ) -> Heartbeat: ...

    @abstractmethod
    async def cached(self, team_id: str, cache_key: str) -> CacheEntry | None:
        """The executor cache entry for identical earlier work of this team, if any."""

    @abstractmethod
    async def complete(
        self,
        ref: StepRef,
        worker: str,
        now: datetime,
        output: StepOutput,
        rates: dict[str, int],
    ) -> ExecutionSnapshot | None:
        """Fenced completion: record the result, then dispatch the next step or finalize.

        With ``output.cache_key`` set (and ``output.cache`` not a hit), the result is also
        remembered in the executor cache, in the same transaction.

        None means the attempt no longer holds its lease; its output must be discarded.
        """

    @abstractmethod
    async def fail(
        self,
        ref: StepRef,
        worker: str,
        now: datetime,
        error: str,
        retry_at: datetime | None,
        rates: dict[str, int],
    ) -> ExecutionSnapshot | None:
        """Fenced failure: requeue as attempt+1 at ``retry_at``, or fail and finalize."""

    @abstractmethod
    async def release(self, ref: StepRef, worker: str, now: datetime) -> ExecutionSnapshot | None:
        """Give a running step back to the queue (a worker shutting down), uncharged."""

    # -- lost leases -------------------------------------------------------------------------
    @abstractmethod
    async def expired_leases(self, now: datetime, limit: int) -> list[StepRun]:
        """Running steps whose lease ran out (their worker is gone)."""

    @abstractmethod
    async def leased_by_others(self, boot_prefix: str) -> list[StepRun]:
        """Running steps leased by workers whose id does not start with ``boot_prefix``."""

    # -- operations --------------------------------------------------------------------------
    @abstractmethod
    async def stuck(
        self, now: datetime, lease_grace_seconds: float, queued_too_long_seconds: float
    ) -> StuckSteps: ...

    @abstractmethod
    async def queue_depth(self) -> dict[str, int]:
        """Dispatched steps waiting for a worker, by step type (for metrics)."""
