"""The step-delivery contract, on the embedded dispatcher (SQLite, in-process claim loops) and on
Procrastinate (PostgreSQL, a queue worker): every dispatched step reaches a worker, retries are
delivered again, stale deliveries change nothing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import psycopg_pool
import pytest

from pagemill import bootstrap
from pagemill.adapters.compute import InlineComputePool
from pagemill.adapters.procrastinate import ProcrastinateQueue
from pagemill.adapters.procrastinate import queue as queue_module
from pagemill.domain.models import StepRef
from pagemill.ports.ledger import Ledger
from pagemill.services.container import Services
from pagemill.services.executions import RunOptions
from pagemill.settings import Settings
from pagemill.worker import embedded
from tests.support.postgres import postgres_database_async
from tests.support.processors import test_registry


@dataclass
class Deployment:
    services: Services
    ledger: Ledger
    team_id: str
    kind: str


@pytest.fixture(params=["embedded", pytest.param("procrastinate", marks=pytest.mark.postgres)])
async def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Deployment]:
    async with contextlib.AsyncExitStack() as stack:
        overrides: dict[str, Any] = {}
        if request.param == "procrastinate":
            overrides["database_url"] = await stack.enter_async_context(postgres_database_async())
            overrides["queue"] = "procrastinate"
        settings = Settings(
            data_dir=tmp_path / "data",
            workers=2,
            heartbeat_seconds=0.2,
            lease_seconds=2,
            retry_base_seconds=0.01,
            retry_max_seconds=0.05,
            **overrides,
        )
        runtime = await stack.enter_async_context(
            bootstrap.open_runtime(
                settings, compute=InlineComputePool(), processors=test_registry()
            )
        )
        services = await stack.enter_async_context(embedded(runtime))
        team = (await services.keys.issue("delivery")).team
        yield Deployment(services, runtime.ledger, team.id, request.param)


async def start(deployment: Deployment, steps: list[dict[str, Any]], body: bytes) -> str:
    services = deployment.services
    pipeline = await services.pipelines.create(deployment.team_id, steps)

    async def chunks() -> AsyncIterator[bytes]:
        yield body

    document = await services.executions.receive_upload(chunks(), deployment.team_id)
    view = await services.executions.run(
        deployment.team_id, pipeline.pipeline_id, RunOptions(), document.renamed("a.pdf", "x")
    )
    return view.execution.execution_id


async def finished(deployment: Deployment, execution_id: str) -> Any:
    for _ in range(1000):
        view = await deployment.services.executions.get(deployment.team_id, execution_id)
        if view.execution.status.value in {"completed", "failed", "completed_with_errors"}:
            return view
        await asyncio.sleep(0.02)
    raise AssertionError(f"{execution_id} was never delivered to the end")


async def test_every_dispatched_step_is_delivered(deployment: Deployment) -> None:
    steps = [{"type": "convert", "settings": {}}, {"type": "segment", "settings": {}}]
    ids = [await start(deployment, steps, f"%PDF doc {i}".encode()) for i in range(6)]
    for execution_id in ids:
        view = await finished(deployment, execution_id)
        assert view.execution.status.value == "completed"
        assert [s.attempt for s in view.steps] == [1, 1]


async def test_a_retry_is_delivered_again(deployment: Deployment, tmp_path: Path) -> None:
    marker = tmp_path / f"failed-once-{deployment.kind}"
    steps = [{"type": "convert", "settings": {"fail_marker": str(marker)}}]
    view = await finished(deployment, await start(deployment, steps, b"%PDF retry me"))
    assert view.execution.status.value == "completed"
    assert view.steps[0].attempt == 2


async def test_a_stale_delivery_changes_nothing(deployment: Deployment) -> None:
    view = await finished(
        deployment, await start(deployment, [{"type": "convert", "settings": {}}], b"%PDF x")
    )
    runner = deployment.services.runner
    # The same attempt delivered twice (a queue's at-least-once), and an old attempt.
    await runner.claim_and_run(StepRef(view.execution.execution_id, 0, 1), "late-worker")
    await runner.claim_and_run(StepRef(view.execution.execution_id, 0, 0), "late-worker")
    again = await finished(deployment, view.execution.execution_id)
    assert again.execution.seq == view.execution.seq
    assert await deployment.ledger.executions.count_results(view.execution.execution_id, 0) == 1


@pytest.mark.postgres
async def test_the_queue_pool_is_autocommit_and_checks_only_idle_connections(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Procrastinate's queries are single statements: no BEGIN/COMMIT around them, and no
    liveness round trip before a connection that was just used."""
    checks: list[object] = []

    async def counted_check(conn: psycopg.AsyncConnection[Any]) -> None:
        checks.append(conn)

    monkeypatch.setattr(psycopg_pool.AsyncConnectionPool, "check_connection", counted_check)
    async with postgres_database_async() as url:
        queue = ProcrastinateQueue(url)
        await queue.apply_schema()
        await queue.open()
        try:
            pool = queue.app.connector.pool  # type: ignore[attr-defined]
            monkeypatch.setattr(queue_module, "CHECK_IDLE_SECONDS", 3600.0)
            await pool.wait()  # every connection of the pool's minimum is open
            for _ in range(pool.min_size):  # the pool rotates them: each is used once
                async with pool.connection() as conn:
                    assert conn.autocommit
            checked_once = len(checks)  # a new connection has never been used: checked
            for _ in range(3):
                async with pool.connection() as conn:
                    await conn.execute("SELECT 1")
            assert len(checks) == checked_once
            monkeypatch.setattr(queue_module, "CHECK_IDLE_SECONDS", -1.0)
            async with pool.connection() as conn:
                assert conn.autocommit
            assert len(checks) == checked_once + 1
        finally:
            await queue.close()
