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
    async def run(self, fn: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
        """Run ``fn(*args)``; raise ``WorkerCrashed`` if the process running it dies, and
        ``TimeoutError`` if it runs longer than ``timeout`` seconds (counted from when it
        starts, not while waiting for a free process; the process running it is stopped where
        the adapter can)."""

    @abstractmethod
    async def close(self) -> None: ...
