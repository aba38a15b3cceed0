"""Where CPU-heavy processor work runs: a process pool in production, inline in unit tests."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class WorkerCrashed(Exception):
    """The process running the work died (killed, out of memory, segfault)."""


class ComputePool(ABC):
    @abstractmethod
    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)``; raise ``WorkerCrashed`` if the process running it dies."""

    @abstractmethod
    async def close(self) -> None: ...
