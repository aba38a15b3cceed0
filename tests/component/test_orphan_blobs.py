"""The orphan sweep: blobs a crash left behind between a purge and its blob deletions are
deleted by a later sweep, never a blob a live execution names, never a blob younger than the
safety age (it may be written just before the row naming it commits)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from pagemill.adapters.filesystem import FilesystemBlobStore
from pagemill.ports.ledger.retention import ReleasedBlobs
from tests.component.test_executions_api import make_pipeline
from tests.component.test_executor_cache import TWO_STEPS, run_done
from tests.component.test_retention import stored_blobs
from tests.support.app import TestServer, test_server
from tests.support.processors import test_registry

FRESH = "results/zz/never-committed.0.1.json"


@pytest.fixture
async def short(tmp_path: Path) -> AsyncIterator[TestServer]:
    async with test_server(
        tmp_path / "data",
        test_registry(),
        retention_seconds=1,
        retention_sweep_interval_seconds=3600,
    ) as running:
        yield running


async def test_a_crash_between_purge_and_deletion_is_swept_up_later(
    short: TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    retention = short.services.retention
    expiring = await make_pipeline(short, TWO_STEPS)
    kept = await make_pipeline(short, TWO_STEPS)
    team = await short.runtime.ledger.tenancy.team_by_name("alpha")
    assert team is not None
    await retention.set_pipeline(team.id, kept, 3600)
    gone = await run_done(short, expiring, content=b"%PDF-1.4 expiring")
    await asyncio.sleep(1.1)  # expired
    live = await run_done(short, kept, content=b"%PDF-1.4 kept")
    live_blobs = set(stored_blobs(short)) - await _blobs_of(short, gone)
    assert len(live_blobs) == 4  # input, 2 results, checkpoint
    await asyncio.sleep(0.6)

    async def crash(released: ReleasedBlobs) -> int:
        raise RuntimeError("the process died after the purge committed")

    monkeypatch.setattr(retention, "_remove", crash)
    with pytest.raises(RuntimeError):
        await retention.sweep()
    monkeypatch.undo()
    orphans = await _blobs_of(short, gone)
    assert len(orphans) == 4 and orphans <= set(stored_blobs(short))  # left behind
    read = await short.client.get(
        f"/api/v1/pipelines/executions/{gone['execution_id']}", headers=short.headers()
    )
    assert read.json()["purged_at"] is not None

    await FilesystemBlobStore(short.settings.blob_root()).write_bytes(
        FRESH, b"{}"
    )  # its row is about to commit
    retention.orphan_min_age = timedelta(seconds=0.5)
    reports = [await retention.sweep() for _ in range(3)]  # one folder per pass

    assert sum(report.orphans_deleted for report in reports) == 4
    assert set(stored_blobs(short)) == live_blobs | {FRESH}
    body, _ = short.runtime.metrics.render()
    assert b"pagemill_orphan_blobs_deleted_total 4.0" in body
    # Idempotent: another round finds nothing more, and the live execution still reads.
    again = [await retention.sweep() for _ in range(3)]
    assert sum(report.orphans_deleted for report in again) == 0
    h = short.headers()
    result = await short.client.get(live["steps"][1]["result_url"], headers=h)
    assert result.status_code == 200


async def test_the_sweep_is_bounded_and_goes_on_where_it_stopped(short: TestServer) -> None:
    retention = short.services.retention
    retention.batch_size = 2
    retention.orphan_min_age = timedelta(seconds=0.1)
    keys = [f"results/a{i}/x.0.1.json" for i in range(5)]
    for key in keys:
        await FilesystemBlobStore(short.settings.blob_root()).write_bytes(key, b"{}")
    await asyncio.sleep(0.2)

    deleted = [await retention.sweep_orphans() for _ in range(6)]

    # inputs (empty), results 2 + 2 + 1, checkpoints (empty): at most a batch each time
    assert max(deleted) <= 2 and sum(deleted) == 5
    assert stored_blobs(short) == []


async def _blobs_of(server: TestServer, execution: dict[str, Any]) -> set[str]:
    """The keys of the blobs an execution names: its input, its steps' results, checkpoints."""
    row = await server.runtime.ledger.executions.get(execution["execution_id"])
    assert row is not None
    results = {key for key in stored_blobs(server) if f"/{execution['execution_id']}." in key}
    checkpoints = {
        f"checkpoints/{step['checkpoint_id']}.json"
        for step in execution["steps"]
        if step["checkpoint_id"]
    }
    return {row.input_key} | results | checkpoints


async def test_a_failing_orphan_sweep_does_not_undo_the_pass(
    short: TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    retention = short.services.retention
    pipeline_id = await make_pipeline(short, TWO_STEPS)
    await run_done(short, pipeline_id)
    await asyncio.sleep(1.1)

    async def unreachable() -> int:
        raise OSError("the blob store's mount is gone")

    monkeypatch.setattr(retention, "sweep_orphans", unreachable)
    report = await retention.sweep()

    assert report.purged == 1 and report.orphans_deleted == 0
    assert stored_blobs(short) == []
