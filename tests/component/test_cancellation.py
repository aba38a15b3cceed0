"""Cancelling executions (a pagemill extension) and releasing steps on shutdown."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.component.test_executions_api import make_pipeline, run, wait_done
from tests.support.app import TestServer, test_server
from tests.support.processors import test_registry

SLOW_TWO_STEPS = [
    {"type": "convert", "settings": {"sleep": 5}},
    {"type": "segment", "settings": {}},
]


async def wait_step_status(server: TestServer, execution_id: str, status: str) -> None:
    for _ in range(300):
        body = (
            await server.client.get(
                f"/api/v1/pipelines/executions/{execution_id}", headers=server.headers()
            )
        ).json()
        if body["steps"][0]["status"] == status:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"step 0 never {status}")


async def test_cancelling_a_running_execution(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server, SLOW_TWO_STEPS)
    execution_id = (await run(server, pipeline_id, content=b"%PDF cancel me")).json()[
        "execution_id"
    ]
    await wait_step_status(server, execution_id, "running")
    url = f"/api/v1/pipelines/executions/{execution_id}"
    cancelled = await server.client.post(f"{url}/cancel", headers=server.headers())
    assert cancelled.status_code == 200
    assert cancelled.json()["steps"][1]["status"] == "cancelled"  # not started: at once
    done = await wait_done(server, execution_id)  # the running step stops here at once
    assert done["status"] == "failed" and done["cancelled"] is True  # SDK loops end on it
    assert [s["status"] for s in done["steps"]] == ["cancelled", "cancelled"]
    result = await server.client.get(f"{url}/steps/0/result", headers=server.headers())
    assert result.json()["status"] == "cancelled"


async def test_cancelling_a_finished_execution_changes_nothing(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server)
    execution_id = (await run(server, pipeline_id)).json()["execution_id"]
    await wait_done(server, execution_id)
    url = f"/api/v1/pipelines/executions/{execution_id}/cancel"
    again = await server.client.post(url, headers=server.headers())
    assert again.status_code == 200 and again.json()["status"] == "completed"
    assert (await server.client.post(url, headers=server.headers("beta"))).status_code == 404


async def test_shutdown_releases_running_steps_without_charging_them(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with test_server(data, test_registry(), shutdown_grace_seconds=0.1) as server:
        pipeline_id = await make_pipeline(server, [{"type": "convert", "settings": {"sleep": 3}}])
        execution_id = (await run(server, pipeline_id)).json()["execution_id"]
        await wait_step_status(server, execution_id, "running")
    # The server stopped mid-step; the next start runs it again as a fresh, uncharged attempt.
    async with test_server(data, test_registry()) as server:
        server.keys["alpha"] = (await server.services.keys.issue("alpha")).secret
        done = await wait_done(server, execution_id)
        assert done["status"] == "completed"
        assert done["steps"][0]["attempt"] == 2
        steps = await server.runtime.ledger.executions.steps(execution_id)
        assert steps[0].max_attempts == 4  # 3 + the release, which is not charged
