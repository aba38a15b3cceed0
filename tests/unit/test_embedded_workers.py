"""Embedded workers: one claim loop feeds the step slots, so a dispatch costs one claim."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, cast

from pagemill.adapters.memory import LocalDispatcher
from pagemill.domain.clock import SystemClock
from pagemill.domain.models import StepRef
from pagemill.services.step_runner import StepRunner
from pagemill.worker import EmbeddedWorkers


class FakeRunner:
    """Hands out queued claims; each attempt holds its slot until the test releases it."""

    def __init__(self) -> None:
        self.queue: list[str] = []
        self.claim_calls = 0
        self.running: dict[str, str] = {}  # step → lease owner
        self.release: dict[str, asyncio.Event] = {}
        self.finished: list[str] = []

    async def recover_previous_boot(self, boot_prefix: str) -> int:
        return 0

    async def start_next(self, worker: str) -> asyncio.Task[None] | None:
        self.claim_calls += 1
        if not self.queue:
            return None
        return asyncio.create_task(self.run(self.queue.pop(0), worker))

    async def next_due(self) -> datetime | None:
        return None

    async def run(self, claim: Any, worker: str) -> None:
        self.running[claim] = worker
        self.release[claim] = asyncio.Event()
        await self.release[claim].wait()
        del self.running[claim]
        self.finished.append(claim)

    async def release_all(self, grace_seconds: float) -> None:
        # Like the runner: stop the running work and wait until each run has recorded it.
        for event in self.release.values():
            event.set()
        await _until(lambda: not self.running)

    async def reap(self) -> int:
        return 0


async def _settle() -> None:
    for _ in range(50):
        await asyncio.sleep(0)


async def _until(condition: Any) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("condition never became true")


async def _started(slots: int) -> tuple[FakeRunner, LocalDispatcher, EmbeddedWorkers]:
    runner, dispatcher = FakeRunner(), LocalDispatcher()
    workers = EmbeddedWorkers(
        cast(StepRunner, runner),
        dispatcher,
        SystemClock(),
        concurrency=slots,
        reaper_interval_seconds=3600,
        identity="host:1:boot",
    )
    await workers.start()
    await _until(lambda: runner.claim_calls == 1)  # the first look, at start
    await _settle()
    return runner, dispatcher, workers


async def _dispatch(runner: FakeRunner, dispatcher: LocalDispatcher, step: str) -> None:
    runner.queue.append(step)
    await dispatcher.dispatched([StepRef(step, 0, 1)])


async def test_a_dispatch_to_idle_slots_costs_one_claim_and_one_look() -> None:
    runner, dispatcher, workers = await _started(slots=4)
    try:
        await _dispatch(runner, dispatcher, "a")
        await _until(lambda: "a" in runner.running)
        await _settle()

        # One claim that got the step, one that found nothing more: not one per idle slot.
        assert runner.claim_calls == 1 + 2
        assert runner.running["a"].startswith("host:1:boot/")
    finally:
        await workers.stop()


async def test_busy_slots_claim_nothing_until_one_is_free() -> None:
    runner, dispatcher, workers = await _started(slots=2)
    try:
        for step in ("a", "b", "c"):
            await _dispatch(runner, dispatcher, step)
        await _until(lambda: len(runner.running) == 2)
        await _settle()
        calls = runner.claim_calls
        assert sorted(runner.running) == ["a", "b"]
        assert len(set(runner.running.values())) == 2  # each slot its own lease owner

        owner_of_a = runner.running["a"]
        runner.release["a"].set()
        await _until(lambda: "c" in runner.running)

        assert runner.running["c"] == owner_of_a  # the freed slot took the next step
        assert runner.claim_calls == calls + 1
    finally:
        await workers.stop()


async def test_stop_ends_running_steps_and_the_claim_loop() -> None:
    runner, dispatcher, workers = await _started(slots=2)
    await _dispatch(runner, dispatcher, "a")
    await _until(lambda: "a" in runner.running)

    await workers.stop()

    assert runner.finished == ["a"]
    calls = runner.claim_calls
    await _dispatch(runner, dispatcher, "b")
    await _settle()
    assert runner.claim_calls == calls
