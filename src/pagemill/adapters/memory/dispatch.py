"""Embedded step delivery: the ledger is the queue; an event wakes the idle claim loop at once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from pagemill.domain.models import StepRef
from pagemill.ports.dispatch import Dispatcher


class LocalDispatcher(Dispatcher):
    def __init__(self) -> None:
        self._generation = 0
        self._event = asyncio.Event()

    async def dispatched(self, refs: Sequence[StepRef]) -> None:
        if not refs:
            return
        self._generation += 1
        # Wake everyone waiting on the current event, and give later waiters a fresh one.
        event, self._event = self._event, asyncio.Event()
        event.set()

    def generation(self) -> int:
        return self._generation

    async def wait(self, since: int, timeout: float) -> None:
        if self._generation != since:
            return
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
        # races with the event being set, and a worker would then never stop.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._event.wait()
