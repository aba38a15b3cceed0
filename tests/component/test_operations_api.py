"""Health, readiness, metrics and the admin view of stuck steps."""

from __future__ import annotations

from pathlib import Path

from tests.component.test_executions_api import make_pipeline, run, wait_done
from tests.support.app import TestServer, test_server
from tests.support.processors import test_registry


async def test_health_and_readiness(server: TestServer) -> None:
    assert (await server.client.get("/healthz")).json() == {"status": "ok"}
    assert (await server.client.get("/readyz")).json()["status"] == "ready"


async def test_metrics_count_executions_steps_and_polls(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server)
    await wait_done(server, (await run(server, pipeline_id)).json()["execution_id"])
    response = await server.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'pagemill_executions{status="completed"} 1.0' in text
    assert (
        'pagemill_step_duration_seconds_count{outcome="completed",step_type="convert"} 1.0' in text
    )
    assert 'pagemill_execution_read_seconds_count{source="ledger"}' in text
    assert 'pagemill_stuck_steps{kind="expired_lease"} 0.0' in text


async def test_the_admin_api_is_absent_without_a_token(server: TestServer) -> None:
    response = await server.client.get("/api/v1/admin/steps", headers={"X-Admin-Token": "x"})
    assert response.status_code == 404


async def test_stuck_steps_need_the_admin_token(tmp_path: Path) -> None:
    async with test_server(
        tmp_path / "d", test_registry(), admin_token="s3cret", stuck_queued_seconds=0
    ) as server:
        missing = await server.client.get("/api/v1/admin/steps")
        wrong = await server.client.get("/api/v1/admin/steps", headers={"X-Admin-Token": "no"})
        assert (missing.status_code, wrong.status_code) == (401, 401)
        pipeline_id = await make_pipeline(server, [{"type": "convert", "settings": {"sleep": 1}}])
        execution_id = (await run(server, pipeline_id)).json()["execution_id"]
        ok = await server.client.get("/api/v1/admin/steps", headers={"X-Admin-Token": "s3cret"})
        assert ok.status_code == 200
        assert set(ok.json()) == {"expired_leases", "queued_too_long", "retried"}
        await wait_done(server, execution_id)
