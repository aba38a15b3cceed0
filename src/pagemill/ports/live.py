"""The live store: a fast, lossy mirror of in-flight executions (progress, heartbeats).

Writers put whole snapshots after each ledger commit; a snapshot never replaces one with a higher
``seq``. Readers compare the live ``seq`` with the ledger's to know whether it is fresh enough.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from pagemill.domain.models import ExecutionSnapshot


class LiveStore(ABC):
    @abstractmethod
    async def put(self, snapshot: ExecutionSnapshot) -> None:
        """Store ``snapshot`` unless a snapshot with a higher seq is already there."""

    @abstractmethod
    async def progress(self, execution_id: str, step_index: int, progress: dict[str, Any]) -> None:
        """Attach live-only progress to a step of a stored snapshot (no seq change)."""

    @abstractmethod
    async def get(self, execution_id: str) -> ExecutionSnapshot | None: ...

    @abstractmethod
    async def expire(self, execution_id: str, seconds: float) -> None:
        """Keep a finalized execution only for ``seconds`` more."""

    @abstractmethod
    async def close(self) -> None: ...
