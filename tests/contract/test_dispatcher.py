"""The dispatcher contract, run against every adapter."""

from __future__ import annotations

import asyncio
import time

import pytest

from pagemill.adapters.memory import LocalDispatcher
from pagemill.domain.models import StepRef
from pagemill.ports.dispatch import Dispatcher

REF = StepRef("pex_a", 0, 1)


@pytest.fixture(params=["local"])
def dispatcher(request: pytest.FixtureRequest) -> Dispatcher:
    return LocalDispatcher()


async def test_wait_times_out_when_nothing_is_dispatched(dispatcher: Dispatcher) -> None:
    started = time.monotonic()
    await dispatcher.wait(dispatcher.generation(), 0.05)
    assert time.monotonic() - started >= 0.04


async def test_a_dispatch_wakes_every_waiter(dispatcher: Dispatcher) -> None:
    generation = dispatcher.generation()
    waiters = [asyncio.create_task(dispatcher.wait(generation, 5)) for _ in range(3)]
    await asyncio.sleep(0.01)
    await dispatcher.dispatched([REF])
    done, pending = await asyncio.wait(waiters, timeout=1)
    assert len(done) == 3 and not pending


async def test_a_dispatch_between_look_and_wait_is_not_missed(dispatcher: Dispatcher) -> None:
    generation = dispatcher.generation()  # the worker looks for work here…
    await dispatcher.dispatched([REF])  # …something arrives…
    started = time.monotonic()
    await dispatcher.wait(generation, 5)  # …and the wait returns at once
    assert time.monotonic() - started < 0.5


async def test_nothing_dispatched_changes_nothing(dispatcher: Dispatcher) -> None:
    generation = dispatcher.generation()
    await dispatcher.dispatched([])
    assert dispatcher.generation() == generation


async def test_cancelling_a_waiter_is_not_swallowed(dispatcher: Dispatcher) -> None:
    waiter = asyncio.create_task(dispatcher.wait(dispatcher.generation(), 5))
    await asyncio.sleep(0.01)
    await dispatcher.dispatched([REF])
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
