"""Run work in a thread of this process: for tests and tiny deployments."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from pagemill.ports.compute import ComputePool

T = TypeVar("T")


class InlineComputePool(ComputePool):
    async def run(self, fn: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
        # A thread cannot be stopped: past the timeout it is left to finish on its own.
        return await asyncio.wait_for(asyncio.to_thread(fn, *args), timeout)

    async def close(self) -> None:
        return None
