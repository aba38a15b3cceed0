"""The ledger's idempotency area: the ``Idempotency-Key``s teams submitted with.

A key is recorded by ``ExecutionLedger.create`` in the transaction that creates its execution,
under a unique constraint on (team, key): of concurrent duplicates, on any number of replicas,
exactly one creates an execution and the others are answered with it. This area reads keys
(the cheap check before a submission does any work) and drops expired ones.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from pagemill.domain.idempotency import IdempotencyRecord


class IdempotencyLedger(ABC):
    @abstractmethod
    async def find(self, team_id: str, key: str, now: datetime) -> IdempotencyRecord | None:
        """The team's key, unless it expired by ``now`` (an expired key is free again)."""

    @abstractmethod
    async def purge_expired(self, now: datetime, limit: int) -> int:
        """Drop up to ``limit`` keys that expired by ``now``; return how many."""
