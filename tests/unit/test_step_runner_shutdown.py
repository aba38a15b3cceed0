"""A shutdown hands back every step this process claimed, uncharged, even a step claimed while
the shutdown runs: none is left running for the next start to charge an attempt.

Each test holds an attempt at one point between its claim and its work, stops the workers
there (``release_all``, then the loops are cancelled, as at a real shutdown) and reads the
ledger afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pagemill import bootstrap
from pagemill.adapters.compute import InlineComputePool
from pagemill.domain.models import StepRun
from pagemill.domain.statuses import StepStatus
from pagemill.services.container import Runtime
from pagemill.services.executions import RunOptions
from pagemill.settings import Settings
from pagemill.worker import EmbeddedWorkers
from tests.support.processors import test_registry

MAX_ATTEMPTS = 3


@dataclass
class Held:
    """A ledger call held after it returned, until ``go`` is set."""

    reached: asyncio.Event
    go: asyncio.Event


def hold_after(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> Held:
    held = Held(asyncio.Event(), asyncio.Event())
    original: Callable[..., Awaitable[Any]] = getattr(owner, name)

    async def holding(*args: Any, **kwargs: Any) -> Any:
        answer = await original(*args, **kwargs)
        held.reached.set()
        await held.go.wait()
        return answer

    monkeypatch.setattr(owner, name, holding)
    return held


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = Settings(data_dir=tmp_path / "data", workers=0, max_attempts=MAX_ATTEMPTS)
    async with bootstrap.open_runtime(
        settings, compute=InlineComputePool(), processors=test_registry()
    ) as opened:
        yield opened


async def submit(runtime: Runtime) -> str:
    services = runtime.services
    team = (await services.keys.issue("shutdown")).team
    pipeline = await services.pipelines.create(team.id, [{"type": "convert"}])

    async def chunks() -> AsyncIterator[bytes]:
        yield b"%PDF-1.4 shutdown"

    document = await services.executions.receive_upload(chunks(), team.id)
    view = await services.executions.run(
        team.id, pipeline.pipeline_id, RunOptions(), document.renamed("a.pdf", "x")
    )
    return view.execution.execution_id


async def stop_while_held(runtime: Runtime, held: Held) -> None:
    workers = EmbeddedWorkers(
        runtime.services.runner,
        runtime.dispatcher,
        runtime.clock,
        concurrency=1,
        reaper_interval_seconds=3600,
    )
    await workers.start()
    await asyncio.wait_for(held.reached.wait(), 10)  # claimed: running in the ledger
    stopping = asyncio.create_task(workers.stop(grace_seconds=0))
    for _ in range(20):  # the shutdown is under way before the held call returns
        await asyncio.sleep(0)
    held.go.set()
    await asyncio.wait_for(stopping, 10)


async def only_step(runtime: Runtime, execution_id: str) -> StepRun:
    (step,) = await runtime.ledger.executions.steps(execution_id)
    return step


def assert_handed_back_uncharged(step: StepRun) -> None:
    # A new attempt, and one more allowed: a worker that shuts down cleanly did nothing wrong.
    assert (step.status, step.attempt, step.max_attempts) == (
        StepStatus.DISPATCHED,
        2,
        MAX_ATTEMPTS + 1,
    )
    assert step.lease_owner is None


async def test_a_step_held_before_its_work_begins_is_handed_back(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The executor cache lookup comes first in an attempt's work.
    held = hold_after(monkeypatch, runtime.ledger.steps, "cached")
    execution_id = await submit(runtime)

    await stop_while_held(runtime, held)

    assert_handed_back_uncharged(await only_step(runtime, execution_id))
    assert await runtime.ledger.steps.leased_by_others("the-next-start") == []


async def test_a_step_whose_claim_commits_during_the_shutdown_is_handed_back(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = hold_after(monkeypatch, runtime.ledger.steps, "claim_next")
    execution_id = await submit(runtime)

    await stop_while_held(runtime, held)

    assert_handed_back_uncharged(await only_step(runtime, execution_id))
    assert await runtime.ledger.steps.leased_by_others("the-next-start") == []
