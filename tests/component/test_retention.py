"""Honest retention through the API: expiry on every result, 410 after it, retention per team
and pipeline, deleting an execution with its blobs, the sweeper, and no blob left behind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.component.test_executions_api import make_pipeline, run
from tests.component.test_executor_cache import TWO_STEPS, run_done
from tests.support.app import TestServer, test_server
from tests.support.processors import test_registry


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def stored_blobs(server: TestServer) -> list[str]:
    """Every run blob on disk (inputs, results, checkpoints), as keys."""
    root = server.settings.blob_root()
    return sorted(
        str(path.relative_to(root))
        for kind in ("inputs", "results", "checkpoints")
        for path in (root / kind).rglob("*")
        if path.is_file()
    )


@pytest.fixture
async def short(tmp_path: Path) -> AsyncIterator[TestServer]:
    """A server whose results expire one second after their execution ends; the sweeper is
    driven by the tests."""
    async with test_server(
        tmp_path / "data",
        test_registry(),
        retention_seconds=1,
        retention_sweep_interval_seconds=3600,
    ) as running:
        yield running


async def test_every_result_carries_its_expiry(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server, TWO_STEPS)
    done = await run_done(server, pipeline_id)

    assert done["retention_seconds"] == 30 * 86400
    expires = parse(done["expires_at"])
    assert expires == parse(done["completed_at"]) + timedelta(days=30)
    assert [s["expires_at"] for s in done["steps"]] == [done["expires_at"]] * 2
    assert done["purged_at"] is None
    assert done["input_config"]["retention_set_by"] == "server"


async def test_pipeline_then_team_then_server(server: TestServer) -> None:
    h = server.headers()
    pipeline_id = await make_pipeline(server)
    team = await server.client.put(
        "/api/v1/teams/current/retention", json={"retention_seconds": 3600}, headers=h
    )
    assert team.status_code == 200, team.text
    assert team.json() == {"retention_seconds": 3600, "server_retention_seconds": 30 * 86400}
    by_team = await run_done(server, pipeline_id)
    assert (by_team["retention_seconds"], by_team["input_config"]["retention_set_by"]) == (
        3600,
        "team",
    )

    changed = await server.client.put(
        f"/api/v1/pipelines/{pipeline_id}/retention", json={"retention_seconds": 120}, headers=h
    )
    assert changed.status_code == 200 and changed.json()["retention_seconds"] == 120
    by_pipeline = await run_done(server, pipeline_id, content=b"%PDF-1.4 other")
    assert by_pipeline["retention_seconds"] == 120
    assert by_pipeline["input_config"]["retention_set_by"] == "pipeline"
    # The earlier execution keeps the retention it was submitted with.
    again = await server.client.get(
        f"/api/v1/pipelines/executions/{by_team['execution_id']}", headers=h
    )
    assert again.json()["retention_seconds"] == 3600

    for bad in (0, 59, 10**10, "soon"):
        refused = await server.client.put(
            f"/api/v1/pipelines/{pipeline_id}/retention",
            json={"retention_seconds": bad},
            headers=h,
        )
        assert refused.status_code == 422, bad
    other_team = await server.client.put(
        f"/api/v1/pipelines/{pipeline_id}/retention",
        json={"retention_seconds": 120},
        headers=server.headers("beta"),
    )
    assert other_team.status_code == 404
    reset = await server.client.put(
        "/api/v1/teams/current/retention", json={"retention_seconds": None}, headers=h
    )
    assert reset.json()["retention_seconds"] is None


async def test_an_expired_result_is_410_with_the_reason(short: TestServer) -> None:
    pipeline_id = await make_pipeline(short, TWO_STEPS)
    done = await run_done(short, pipeline_id)
    h = short.headers()
    assert (await short.client.get(done["steps"][1]["result_url"], headers=h)).status_code == 200

    await asyncio.sleep(1.1)
    gone = await short.client.get(done["steps"][1]["result_url"], headers=h)

    assert gone.status_code == 410
    detail = gone.json()["detail"]
    assert done["execution_id"] in detail and "expired at" in detail
    assert "1 s after an execution ends (the server's retention)" in detail
    # The execution itself stays readable; only its stored outputs are gone.
    assert (
        await short.client.get(f"/api/v1/pipelines/executions/{done['execution_id']}", headers=h)
    ).status_code == 200


async def test_the_sweeper_purges_in_bounded_batches(short: TestServer) -> None:
    pipeline_id = await make_pipeline(short, TWO_STEPS)
    done = [await run_done(short, pipeline_id, content=f"%PDF-1.4 {i}".encode()) for i in range(3)]
    team = await short.runtime.ledger.tenancy.team_by_name("alpha")
    assert team is not None
    assert stored_blobs(short)
    await asyncio.sleep(1.1)
    short.services.retention.batch_size = 2

    first = await short.services.retention.sweep()
    second = await short.services.retention.sweep()
    third = await short.services.retention.sweep()

    assert (first.purged, second.purged, third.purged) == (2, 1, 0)
    assert first.blobs_deleted + second.blobs_deleted == 3 * 4  # input, 2 results, checkpoint
    assert stored_blobs(short) == []
    assert await short.runtime.ledger.storage.used(team.id) == 0
    h = short.headers()
    for execution in done:
        read = await short.client.get(
            f"/api/v1/pipelines/executions/{execution['execution_id']}", headers=h
        )
        assert read.json()["purged_at"] is not None
        result = await short.client.get(execution["steps"][0]["result_url"], headers=h)
        assert result.status_code == 410


async def test_delete_removes_everything_at_once(server: TestServer) -> None:
    h = server.headers()
    pipeline_id = await make_pipeline(server, TWO_STEPS)
    done = await run_done(server, pipeline_id)
    execution_id = done["execution_id"]
    before = stored_blobs(server)
    assert len(before) == 4

    deleted = await server.client.delete(f"/api/v1/pipelines/executions/{execution_id}", headers=h)

    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"execution_id": execution_id, "deleted": True, "blobs_deleted": 4}
    assert stored_blobs(server) == []
    read = await server.client.get(f"/api/v1/pipelines/executions/{execution_id}", headers=h)
    assert read.status_code == 404
    assert (await server.client.get(done["steps"][0]["result_url"], headers=h)).status_code == 404
    again = await server.client.delete(f"/api/v1/pipelines/executions/{execution_id}", headers=h)
    assert again.status_code == 404
    # Gone from the executor cache too: the same work is done again, not "reused" from nothing.
    rerun = await run_done(server, pipeline_id)
    assert [s["cache"]["status"] for s in rerun["steps"]] == ["miss", "miss"]


async def test_delete_refuses_a_running_execution_and_other_teams(server: TestServer) -> None:
    h = server.headers()
    pipeline_id = await make_pipeline(server, [{"type": "convert", "settings": {"sleep": 1}}])
    started = (await run(server, pipeline_id)).json()
    url = f"/api/v1/pipelines/executions/{started['execution_id']}"

    assert (await server.client.delete(url, headers=server.headers("beta"))).status_code == 404
    running = await server.client.delete(url, headers=h)
    assert running.status_code == 400
    assert "cancel it first" in running.json()["detail"]
    await server.client.post(f"{url}/cancel", headers=h)
    for _ in range(200):
        if (await server.client.get(url, headers=h)).json()["status"] == "cancelled":
            break
        await asyncio.sleep(0.02)
    assert (await server.client.delete(url, headers=h)).status_code == 200


async def test_no_blob_outlives_its_execution(short: TestServer) -> None:
    """Executions sharing blobs (executor cache hits read the checkpoint of the run that did
    the work), deleted or expired in any order: each blob lives exactly as long as the last
    execution that names it."""
    h = short.headers()
    pipeline_id = await make_pipeline(short, TWO_STEPS)
    source = await run_done(short, pipeline_id)
    hit = await run_done(short, pipeline_id)  # reads the source's checkpoint
    other = await run_done(short, pipeline_id, content=b"%PDF-1.4 other")
    assert [s["cache"]["status"] for s in hit["steps"]] == ["hit", "hit"]
    shared = f"checkpoints/{source['steps'][0]['checkpoint_id']}.json"
    assert hit["steps"][0]["checkpoint_id"] == source["steps"][0]["checkpoint_id"]

    # The source goes first: the hit still needs the checkpoint, so it stays ...
    await short.client.delete(f"/api/v1/pipelines/executions/{source['execution_id']}", headers=h)
    assert shared in stored_blobs(short)
    hit_result = await short.client.get(hit["steps"][1]["result_url"], headers=h)
    assert hit_result.status_code == 200

    # ... until the last execution naming it expires.
    await asyncio.sleep(1.1)
    report = await short.services.retention.sweep()
    assert report.purged == 2
    assert stored_blobs(short) == []
    await short.client.delete(f"/api/v1/pipelines/executions/{other['execution_id']}", headers=h)
    assert stored_blobs(short) == []


async def test_the_server_sweeps_by_itself(tmp_path: Path) -> None:
    async with test_server(
        tmp_path / "data",
        test_registry(),
        retention_seconds=1,
        retention_sweep_interval_seconds=0.2,
    ) as server:
        pipeline_id = await make_pipeline(server, TWO_STEPS)
        done = await run_done(server, pipeline_id)
        assert stored_blobs(server)
        for _ in range(100):  # expiry after 1 s, then a pass within 0.2 s
            if not stored_blobs(server):
                break
            await asyncio.sleep(0.05)
        assert stored_blobs(server) == []
        read = await server.client.get(
            f"/api/v1/pipelines/executions/{done['execution_id']}", headers=server.headers()
        )
        assert read.json()["purged_at"] is not None
