"""The live-store contract, run against every adapter."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from pagemill.adapters.memory import MemoryLiveStore
from pagemill.domain.models import Execution, ExecutionSnapshot, StepRun
from pagemill.domain.statuses import ExecutionStatus, StepStatus
from pagemill.ports.live import LiveStore

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["memory"])
async def live(request: pytest.FixtureRequest) -> AsyncIterator[LiveStore]:
    store = MemoryLiveStore()
    yield store
    await store.close()


def snapshot(
    seq: int, step_status: StepStatus = StepStatus.RUNNING, execution_id: str = "pex_a"
) -> ExecutionSnapshot:
    execution = Execution(
        pk=1,
        execution_id=execution_id,
        team_id="team_1",
        pipeline_id="pl_1",
        pipeline_version=0,
        status=ExecutionStatus.RUNNING,
        seq=seq,
        created=NOW,
        input_key="inputs/x",
        config_snapshot={},
        input_config={},
    )
    step = StepRun(
        execution_id=execution_id,
        step_index=0,
        step_type="convert",
        status=step_status,
        attempt=1,
        max_attempts=3,
        settings={},
        lookup_key="req_1",
        started_at=NOW,
    )
    return ExecutionSnapshot(execution=execution, steps=[step])


async def test_missing_is_none(live: LiveStore) -> None:
    assert await live.get("pex_none") is None


async def test_newer_snapshots_replace_older_ones(live: LiveStore) -> None:
    await live.put(snapshot(2))
    await live.put(snapshot(3, StepStatus.COMPLETED))
    got = await live.get("pex_a")
    assert got is not None
    assert got.execution.seq == 3
    assert got.steps[0].status is StepStatus.COMPLETED


async def test_an_older_snapshot_never_overwrites_a_newer_one(live: LiveStore) -> None:
    await live.put(snapshot(5, StepStatus.COMPLETED))
    await live.put(snapshot(4, StepStatus.RUNNING))
    got = await live.get("pex_a")
    assert got is not None
    assert got.execution.seq == 5
    assert got.steps[0].status is StepStatus.COMPLETED


async def test_progress_attaches_to_a_stored_snapshot_and_survives_updates(live: LiveStore) -> None:
    await live.progress("pex_a", 0, {"pages_done": 1})  # nothing stored yet: ignored
    assert await live.get("pex_a") is None
    await live.put(snapshot(1))
    await live.progress("pex_a", 0, {"pages_done": 3, "pages_total": 10})
    await live.progress("pex_a", 0, {"pages_done": 4})
    await live.put(snapshot(2))
    got = await live.get("pex_a")
    assert got is not None
    assert got.progress[0] == {"pages_done": 4, "pages_total": 10}


async def test_expire_drops_the_entry_after_the_ttl(live: LiveStore) -> None:
    await live.put(snapshot(1))
    await live.put(snapshot(1, execution_id="pex_b"))
    await live.expire("pex_a", 0.05)
    assert await live.get("pex_a") is not None
    await asyncio.sleep(0.1)
    assert await live.get("pex_a") is None
    assert await live.get("pex_b") is not None


async def test_snapshots_are_kept_per_execution(live: LiveStore) -> None:
    await live.put(snapshot(7, execution_id="pex_a"))
    await live.put(dataclasses.replace(snapshot(1, execution_id="pex_b")))
    a, b = await live.get("pex_a"), await live.get("pex_b")
    assert a is not None and b is not None
    assert (a.execution.seq, b.execution.seq) == (7, 1)
