"""Embedded workers: one claim loop feeds the step slots, so a dispatch costs one claim."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, cast

from pagemill.adapters.memory import LocalDispatcher
from pagemill.domain.clock import SystemClock
from pagemill.domain.models import StepRef
from pagemill.services.engine import StepEngine
from pagemill.worker import EmbeddedWorkers


class FakeEngine:
    """Hands out queued claims; ``run`` holds its slot until the test releases it."""

    def __init__(self) -> None:
        self.queue: list[str] = []
        self.claim_calls = 0
        self.running: dict[str, str] = {}  # step → lease owner
        self.release: dict[str, asyncio.Event] = {}
        self.finished: list[str] = []

    async def recover_previous_boot(self, boot_prefix: str) -> int:
        return 0

    async def claim_next(self, worker: str) -> Any:
        self.claim_calls += 1
        return self.queue.pop(0) if self.queue else None

    async def next_due(self) -> datetime | None:
        return None

    async def run(self, claim: Any, worker: str) -> None:
        self.running[claim] = worker
        self.release[claim] = asyncio.Event()
        await self.release[claim].wait()
        del self.running[claim]
        self.finished.append(claim)

    async def release_all(self, grace_seconds: float) -> None:
        # Like the engine: stop the running work and wait until each run has recorded it.
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


async def _started(slots: int) -> tuple[FakeEngine, LocalDispatcher, EmbeddedWorkers]:
    engine, dispatcher = FakeEngine(), LocalDispatcher()
    workers = EmbeddedWorkers(
        cast(StepEngine, engine),
        dispatcher,
        SystemClock(),
        concurrency=slots,
        reaper_interval_seconds=3600,
        identity="host:1:boot",
    )
    await workers.start()
    await _until(lambda: engine.claim_calls == 1)  # the first look, at start
    await _settle()
    return engine, dispatcher, workers


async def _dispatch(engine: FakeEngine, dispatcher: LocalDispatcher, step: str) -> None:
    engine.queue.append(step)
    await dispatcher.dispatched([StepRef(step, 0, 1)])


async def test_a_dispatch_to_idle_slots_costs_one_claim_and_one_look() -> None:
    engine, dispatcher, workers = await _started(slots=4)
    try:
        await _dispatch(engine, dispatcher, "a")
        await _until(lambda: "a" in engine.running)
        await _settle()

        # One claim that got the step, one that found nothing more: not one per idle slot.
        assert engine.claim_calls == 1 + 2
        assert engine.running["a"].startswith("host:1:boot/")
    finally:
        await workers.stop()


async def test_busy_slots_claim_nothing_until_one_is_free() -> None:
    engine, dispatcher, workers = await _started(slots=2)
    try:
        for step in ("a", "b", "c"):
            await _dispatch(engine, dispatcher, step)
        await _until(lambda: len(engine.running) == 2)
        await _settle()
        calls = engine.claim_calls
        assert sorted(engine.running) == ["a", "b"]
        assert len(set(engine.running.values())) == 2  # each slot its own lease owner

        owner_of_a = engine.running["a"]
        engine.release["a"].set()
        await _until(lambda: "c" in engine.running)

        assert engine.running["c"] == owner_of_a  # the freed slot took the next step
        assert engine.claim_calls == calls + 1
    finally:
        await workers.stop()


async def test_stop_ends_running_steps_and_the_claim_loop() -> None:
    engine, dispatcher, workers = await _started(slots=2)
    await _dispatch(engine, dispatcher, "a")
    await _until(lambda: "a" in engine.running)

    await workers.stop()

    assert engine.finished == ["a"]
    calls = engine.claim_calls
    await _dispatch(engine, dispatcher, "b")
    await _settle()
    assert engine.claim_calls == calls
