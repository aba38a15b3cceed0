"""Retention, deletion and idempotent submission in the scale-out shape: a PostgreSQL ledger
with Procrastinate delivery and a Redis live store, in process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.component.test_executions_api import make_pipeline, wait_done
from tests.component.test_executor_cache import TWO_STEPS, run_done
from tests.component.test_retention import stored_blobs
from tests.support.app import TestServer, test_server
from tests.support.postgres import postgres_database_async
from tests.support.processors import test_registry
from tests.support.redis import private_redis_server

pytestmark = [pytest.mark.postgres]


@pytest.fixture
async def scaled(tmp_path: Path) -> AsyncIterator[TestServer]:
    async with contextlib.AsyncExitStack() as stack:
        url = await stack.enter_async_context(postgres_database_async())
        redis = stack.enter_context(private_redis_server(tmp_path / "redis"))
        server = await stack.enter_async_context(
            test_server(
                tmp_path / "data",
                test_registry(),
                database_url=url,
                live_url=redis.url,
                retention_seconds=2,
                retention_sweep_interval_seconds=3600,
            )
        )
        yield server


async def test_expiry_sweep_and_delete_leave_no_blob(scaled: TestServer) -> None:
    h = scaled.headers()
    pipeline_id = await make_pipeline(scaled, TWO_STEPS)
    source = await run_done(scaled, pipeline_id)
    hit = await run_done(scaled, pipeline_id)
    assert [s["cache"]["status"] for s in hit["steps"]] == ["hit", "hit"]
    assert hit["expires_at"] is not None and hit["retention_seconds"] == 2

    deleted = await scaled.client.delete(
        f"/api/v1/pipelines/executions/{source['execution_id']}", headers=h
    )
    assert deleted.status_code == 200
    assert (await scaled.client.get(hit["steps"][1]["result_url"], headers=h)).status_code == 200

    await asyncio.sleep(2.1)
    gone = await scaled.client.get(hit["steps"][1]["result_url"], headers=h)
    assert gone.status_code == 410 and "expired at" in gone.json()["detail"]
    report = await scaled.services.retention.sweep()
    assert report.purged == 1
    assert stored_blobs(scaled) == []


async def test_idempotent_submission(scaled: TestServer) -> None:
    pipeline_id = await make_pipeline(scaled)
    headers = {**scaled.headers(), "Idempotency-Key": "scale-out"}

    async def submit(content: bytes) -> object:
        return await scaled.client.post(
            f"/api/v1/pipelines/{pipeline_id}/run",
            files={"file": ("a.pdf", content, "application/pdf")},
            headers=headers,
        )

    responses = await asyncio.gather(*(submit(b"%PDF-1.4 same") for _ in range(4)))
    ids = {r.json()["execution_id"] for r in responses}  # type: ignore[attr-defined]
    assert len(ids) == 1
    await wait_done(scaled, ids.pop())
    assert (await submit(b"%PDF-1.4 else")).status_code == 409  # type: ignore[attr-defined]


async def test_rerun_from_a_step(scaled: TestServer) -> None:
    h = scaled.headers()
    pipeline_id = await make_pipeline(scaled, TWO_STEPS)
    parent = await run_done(scaled, pipeline_id)
    changed = [TWO_STEPS[0], {"type": "segment", "settings": {"v": 2}}]

    started = await scaled.client.post(
        f"/api/v1/pipelines/executions/{parent['execution_id']}/rerun",
        json={"from_step": 1, "steps": changed},
        headers=h,
    )
    assert started.status_code == 200, started.text
    child = await wait_done(scaled, started.json()["execution_id"])

    assert child["status"] == "completed"
    assert child["parent_execution_id"] == parent["execution_id"]
    assert [s["cache"]["status"] for s in child["steps"]] == ["reused", "miss"]
    assert child["steps"][0]["checkpoint_id"] == parent["steps"][0]["checkpoint_id"]
