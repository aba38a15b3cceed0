"""The executor cache, through the API: identical work is reused, and says so."""

from __future__ import annotations

from typing import Any

from tests.component.test_executions_api import make_pipeline, run, wait_done
from tests.support.app import TestServer

TWO_STEPS = [{"type": "convert", "settings": {}}, {"type": "segment", "settings": {}}]


async def run_done(
    server: TestServer,
    pipeline_id: str,
    content: bytes = b"%PDF-1.4 same",
    data: dict[str, str] | None = None,
    team: str = "alpha",
) -> dict[str, Any]:
    response = await run(server, pipeline_id, data, content=content, team=team)
    assert response.status_code == 200, response.text
    return await wait_done(server, response.json()["execution_id"], team)


async def test_identical_work_is_reused_step_by_step(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server, TWO_STEPS)
    first = await run_done(server, pipeline_id)
    second = await run_done(server, pipeline_id)
    assert [s["cache"]["status"] for s in first["steps"]] == ["miss", "miss"]
    assert [s["cache"]["status"] for s in second["steps"]] == ["hit", "hit"]
    assert second["steps"][0]["cache"]["source_execution_id"] == first["execution_id"]
    assert second["steps"][1]["cache"]["source_step_index"] == 1
    # The reused result is the same work, addressed to the new step.
    h = server.headers()
    old = (await server.client.get(first["steps"][1]["result_url"], headers=h)).json()
    new = (await server.client.get(second["steps"][1]["result_url"], headers=h)).json()
    assert new["segmentation_results"] == old["segmentation_results"]
    assert new["lookup_key"] == second["steps"][1]["lookup_key"] != old["lookup_key"]
    assert second["status"] == "completed"
    assert second["rate_breakdown"]["page_count"] == 1


async def test_different_input_or_settings_miss(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server, TWO_STEPS)
    await run_done(server, pipeline_id)
    other_bytes = await run_done(server, pipeline_id, content=b"%PDF-1.4 other")
    other_range = await run_done(server, pipeline_id, data={"page_range": "0"})
    assert other_bytes["steps"][0]["cache"]["status"] == "miss"
    assert other_range["steps"][0]["cache"]["status"] == "miss"

    changed = [{"type": "convert", "settings": {}}, {"type": "segment", "settings": {"x": 1}}]
    await server.client.put(
        f"/api/v1/pipelines/{pipeline_id}", json={"steps": changed}, headers=server.headers()
    )
    partly = await run_done(server, pipeline_id)
    # Same convert work, different segment settings: reuse only what is identical.
    assert [s["cache"]["status"] for s in partly["steps"]] == ["hit", "miss"]


async def test_skip_cache_bypasses_and_refreshes(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server)
    await run_done(server, pipeline_id)
    bypassed = await run_done(server, pipeline_id, data={"skip_cache": "True"})
    assert bypassed["steps"][0]["cache"]["status"] == "bypass"
    again = await run_done(server, pipeline_id)
    assert again["steps"][0]["cache"]["status"] == "hit"
    assert again["steps"][0]["cache"]["source_execution_id"] == bypassed["execution_id"]


async def test_the_cache_is_per_team(server: TestServer) -> None:
    mine = await make_pipeline(server)
    theirs = await make_pipeline(server, team="beta")
    await run_done(server, mine)
    other_team = await run_done(server, theirs, team="beta")
    assert other_team["steps"][0]["cache"]["status"] == "miss"
