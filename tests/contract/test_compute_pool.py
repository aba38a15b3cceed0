"""The compute-pool contract, run against every adapter (inline and worker processes)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator

import pytest

from pagemill.adapters.compute import InlineComputePool, ProcessComputePool
from pagemill.domain.errors import ProcessingError
from pagemill.ports.compute import ComputePool, WorkerCrashed


def square(value: int) -> int:
    return value * value


def fail(message: str) -> None:
    raise ProcessingError(message, retryable=True)


def pid() -> int:
    return os.getpid()


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.fixture(params=["inline", "processes"])
async def pool(request: pytest.FixtureRequest) -> AsyncIterator[ComputePool]:
    if request.param == "inline":
        compute: ComputePool = InlineComputePool()
    else:
        processes = ProcessComputePool(size=2, max_tasks_per_child=3)
        await processes.start()
        compute = processes
    yield compute
    await compute.close()


async def test_runs_functions(pool: ComputePool) -> None:
    assert await pool.run(square, 7) == 49


async def test_errors_come_back_with_their_type_and_fields(pool: ComputePool) -> None:
    with pytest.raises(ProcessingError) as caught:
        await pool.run(fail, "bad page")
    assert caught.value.message == "bad page"


async def test_a_killed_child_fails_only_its_task_and_is_replaced() -> None:
    pool = ProcessComputePool(size=2, max_tasks_per_child=10)
    await pool.start()
    try:
        with pytest.raises(WorkerCrashed):
            await pool.run(die)
        assert await pool.run(square, 3) == 9
        assert await pool.run(square, 4) == 16
    finally:
        await pool.close()


async def test_children_are_recycled_after_max_tasks() -> None:
    pool = ProcessComputePool(size=1, max_tasks_per_child=2)
    await pool.start()
    try:
        pids = [await pool.run(pid) for _ in range(4)]
        assert pids[0] == pids[1] != pids[2] == pids[3]
        assert os.getpid() not in pids
    finally:
        await pool.close()


async def test_an_idle_child_killed_from_outside_is_replaced_silently() -> None:
    pool = ProcessComputePool(size=1, max_tasks_per_child=10)
    await pool.start()
    try:
        (child,) = pool.pids()
        os.kill(child, signal.SIGKILL)
        await asyncio.sleep(0.2)  # let the signal land: it was killed while idle, not mid-send
        assert await pool.run(square, 5) == 25
    finally:
        await pool.close()


def sleep_forever() -> None:
    import time

    time.sleep(3600)


async def test_cancelling_a_task_kills_its_child_at_once() -> None:
    pool = ProcessComputePool(size=1, max_tasks_per_child=10)
    await pool.start()
    try:
        (child,) = pool.pids()
        task = asyncio.create_task(pool.run(sleep_forever))
        await asyncio.sleep(0.3)
        started = asyncio.get_running_loop().time()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert asyncio.get_running_loop().time() - started < 1.5
        with pytest.raises(ProcessLookupError):
            os.kill(child, 0)
        assert await pool.run(square, 6) == 36  # a fresh child took the slot
    finally:
        await pool.close()


def imported(module: str) -> bool:
    import sys

    return module in sys.modules


async def test_children_import_the_preload_modules_before_their_first_task() -> None:
    # ``colorsys``: a standard module nothing here imports on its own.
    cold = ProcessComputePool(size=1, max_tasks_per_child=10)
    warm = ProcessComputePool(size=1, max_tasks_per_child=10, preload=["colorsys"])
    await cold.start()
    await warm.start()
    try:
        assert await cold.run(imported, "colorsys") is False
        assert await warm.run(imported, "colorsys") is True
    finally:
        await cold.close()
        await warm.close()


async def test_a_module_that_cannot_be_preloaded_does_not_stop_the_pool() -> None:
    pool = ProcessComputePool(size=1, max_tasks_per_child=10, preload=["no_such_module_here"])
    await pool.start()
    try:
        assert await pool.run(square, 8) == 64
    finally:
        await pool.close()


async def test_a_recycled_childs_successor_is_started_before_it_is_needed() -> None:
    pool = ProcessComputePool(size=1, max_tasks_per_child=1)
    await pool.start()
    try:
        first = await pool.run(pid)
        # The successor starts in the background as soon as the first child retires: the
        # pool holds a ready child again without another task asking for one.
        for _ in range(200):
            if pool.pids():
                break
            await asyncio.sleep(0.05)
        (successor,) = pool.pids()
        assert successor != first
        assert await pool.run(pid) == successor
    finally:
        await pool.close()


def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


async def test_a_call_past_its_timeout_is_a_timeout_error(pool: ComputePool) -> None:
    with pytest.raises(TimeoutError):
        await pool.run(nap, 1.5, timeout=0.2)
    assert await pool.run(square, 3, timeout=30) == 9  # the pool carries on
