"""Run work in a thread of this process: for tests and tiny deployments."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from pagemill.ports.compute import ComputePool

T = TypeVar("T")


class InlineComputePool(ComputePool):
    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, *args)

    async def close(self) -> None:
        return None
