"""The live store: a fast, lossy mirror of in-flight executions (progress, heartbeats).

Writers put whole snapshots after each ledger commit; a snapshot never replaces one with a higher
``seq``. Readers compare the live ``seq`` with the ledger's to know whether it is fresh enough.

Each execution also has a short, capped log of events (one per transition, one per progress
update) that push channels (SSE, WebSocket) can replay from the last id a client saw.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Literal

from pagemill.domain.events import StepState
from pagemill.domain.models import ExecutionSnapshot
from pagemill.domain.statuses import ExecutionStatus


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """One entry of an execution's event log.

    ``id`` is ``"<n>-0"``, ``n`` counting the execution's events from 1; pass the last one seen
    as ``after`` to resume. A ``snapshot`` event says a snapshot with a higher ``seq`` was stored
    (``status`` is the execution's, ``steps`` its steps' states and ``previous`` those of the
    snapshot it replaced, None when none was stored); a ``progress`` event carries the
    ``progress`` merged into step ``step_index``.
    """

    id: str
    type: Literal["snapshot", "progress"]
    seq: int
    status: ExecutionStatus | None = None
    step_index: int | None = None
    progress: dict[str, Any] | None = None
    steps: tuple[StepState, ...] | None = None
    previous: tuple[StepState, ...] | None = None


class LiveStore(ABC):
    @abstractmethod
    async def put(self, snapshot: ExecutionSnapshot) -> None:
        """Store ``snapshot`` unless a snapshot with a higher seq is already there.

        An equal seq rewrites the entry without a new event; a higher one appends a ``snapshot``
        event. Progress already attached survives.
        """

    @abstractmethod
    async def progress(self, execution_id: str, step_index: int, progress: dict[str, Any]) -> None:
        """Attach live-only progress to a step of a stored snapshot (no seq change).

        Merges key by key into what the step already has and appends a ``progress`` event; does
        nothing when no snapshot is stored.
        """

    @abstractmethod
    async def get(self, execution_id: str) -> ExecutionSnapshot | None: ...

    @abstractmethod
    async def events(
        self,
        execution_id: str,
        after: str | None = None,
        count: int = 100,
        *,
        inclusive: bool = False,
    ) -> list[LiveEvent]:
        """Up to ``count`` events of the execution, oldest first, strictly after id ``after``
        (from it, when ``inclusive``).

        The log is capped (about the last 1000 events) and expires with the entry. A malformed
        ``after`` raises ``InvalidInput``.
        """

    @abstractmethod
    async def expire(self, execution_id: str, seconds: float) -> None:
        """Keep a finalized execution (and its events) only for ``seconds`` more.

        Later writes do not extend that deadline.
        """

    @abstractmethod
    async def close(self) -> None: ...
