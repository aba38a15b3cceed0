"""Scale-out step delivery: a job queue whose jobs are dispatched steps.

The ledger dispatches a step and, in the same transaction, the queue's adapter enqueues its job
(the ledger's dispatch hook); a queue worker receives the job and hands the step to
``handler``, and runs ``reaper`` on a schedule that all workers share.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable

from pagemill.domain.models import StepRef

StepHandler = Callable[[StepRef], Awaitable[None]]
Reaper = Callable[[], Awaitable[None]]


class StepQueue(ABC):
    # Set by the process that runs steps, once its step runner exists.
    handler: StepHandler | None = None
    reaper: Reaper | None = None

    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def run_worker(
        self, *, queues: Iterable[str] | None, concurrency: int, name: str
    ) -> None:
        """Run jobs until cancelled: each delivered step through ``handler``, ``concurrency``
        at once, of the step types in ``queues`` (None: all)."""
