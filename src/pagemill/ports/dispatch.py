"""Step delivery: how a worker learns that a dispatched step may be claimed."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from pagemill.domain.models import StepRef


class Dispatcher(ABC):
    @abstractmethod
    async def dispatched(self, refs: Sequence[StepRef]) -> None:
        """Called after the ledger committed ``refs`` as dispatched."""

    @abstractmethod
    def generation(self) -> int:
        """A counter that changes whenever something is dispatched.

        A worker reads it *before* looking for work, and passes it to ``wait`` so that a
        dispatch between the look and the wait is never missed.
        """

    @abstractmethod
    async def wait(self, since: int, timeout: float) -> None:
        """Return once ``generation()`` differs from ``since``, or after ``timeout`` seconds."""
