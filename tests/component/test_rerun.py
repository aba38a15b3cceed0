"""Rerun or fork an execution from step k, through the API: the steps before k are the
parent's stored outputs (not run again), the rest runs with the new definition."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.component.test_executions_api import make_pipeline, run, wait_done
from tests.component.test_executor_cache import TWO_STEPS, run_done
from tests.component.test_retention import stored_blobs
from tests.support.app import TestServer


async def rerun(
    server: TestServer, execution_id: str, body: dict[str, Any], team: str = "alpha", **kw: Any
) -> Any:
    return await server.client.post(
        f"/api/v1/pipelines/executions/{execution_id}/rerun",
        json=body,
        headers={**server.headers(team), **kw.get("headers", {})},
    )


async def rerun_done(server: TestServer, execution_id: str, body: dict[str, Any]) -> Any:
    response = await rerun(server, execution_id, body)
    assert response.status_code == 200, response.text
    return await wait_done(server, response.json()["execution_id"])


async def test_a_rerun_reuses_the_steps_before_k(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server, TWO_STEPS)
    parent = await run_done(server, pipeline_id)

    started = await rerun(server, parent["execution_id"], {"from_step": 1})
    assert started.status_code == 200, started.text
    body = started.json()
    assert body["parent_execution_id"] == parent["execution_id"]
    assert [s["status"] for s in body["steps"]] == ["completed", "dispatched"]
    child = await wait_done(server, body["execution_id"])

    assert child["status"] == "completed"
    reused, ran = child["steps"]
    assert reused["cache"] == {
        "status": "reused",
        "source_execution_id": parent["execution_id"],
        "source_step_index": 0,
    }
    assert reused["checkpoint_id"] == parent["steps"][0]["checkpoint_id"]
    assert ran["cache"]["status"] != "reused"
    assert child["config_snapshot"]["rerun"] == {
        "parent_execution_id": parent["execution_id"],
        "from_step": 1,
        "steps_replaced": False,
    }
    assert child["input_config"]["sha256"] == parent["input_config"]["sha256"]
    # Only the step that ran is charged.
    costs = [line["cost_cents"] for line in child["rate_breakdown"]["steps"]]
    parent_costs = [line["cost_cents"] for line in parent["rate_breakdown"]["steps"]]
    assert costs[0] == 0 < parent_costs[0]
    assert costs[1] == parent_costs[1] > 0
    h = server.headers()
    reused_result = await server.client.get(reused["result_url"], headers=h)
    parent_result = await server.client.get(parent["steps"][0]["result_url"], headers=h)
    assert reused_result.json() == parent_result.json()
    segments = (await server.client.get(ran["result_url"], headers=h)).json()
    assert segments["segmentation_results"]["segments"] == [{"name": "REPORT.PDF: 13 BYTES"}]


async def test_replacement_steps_change_only_what_comes_after(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server, TWO_STEPS)
    parent = await run_done(server, pipeline_id)
    changed = [{"type": "convert", "settings": {}}, {"type": "segment", "settings": {"v": 2}}]

    child = await rerun_done(server, parent["execution_id"], {"from_step": 1, "steps": changed})

    assert child["steps"][0]["cache"]["status"] == "reused"
    assert child["steps"][1]["cache"]["status"] == "miss"  # new settings: new work
    assert child["config_snapshot"]["steps"][1]["settings"] == {"v": 2}
    assert child["config_snapshot"]["rerun"]["steps_replaced"] is True

    other_convert = [{"type": "convert", "settings": {"x": 1}}, TWO_STEPS[1]]
    refused = await rerun(server, parent["execution_id"], {"from_step": 1, "steps": other_convert})
    assert refused.status_code == 422
    assert "cannot be reused" in refused.text


async def test_a_published_version_can_be_forked_from_a_step(server: TestServer) -> None:
    h = server.headers()
    pipeline_id = await make_pipeline(server, TWO_STEPS)
    parent = await run_done(server, pipeline_id)
    changed = [{"type": "convert", "settings": {}}, {"type": "segment", "settings": {"v": 3}}]
    await server.client.put(f"/api/v1/pipelines/{pipeline_id}", json={"steps": changed}, headers=h)
    await server.client.post(f"/api/v1/pipelines/{pipeline_id}/versions", headers=h)

    child = await rerun_done(server, parent["execution_id"], {"from_step": 1, "version": 1})

    assert child["pipeline_version"] == 1
    assert child["config_snapshot"]["steps"][1]["settings"] == {"v": 3}
    assert child["steps"][0]["cache"]["status"] == "reused"
    missing = await rerun(server, parent["execution_id"], {"from_step": 1, "version": 9})
    assert missing.status_code == 404


async def test_from_step_zero_runs_everything_again(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server, TWO_STEPS)
    parent = await run_done(server, pipeline_id)

    child = await rerun_done(
        server, parent["execution_id"], {"from_step": 0, "skip_cache": True, "page_range": "0"}
    )

    assert [s["cache"]["status"] for s in child["steps"]] == ["bypass", "bypass"]
    assert child["input_config"]["page_range"] == "0"
    assert child["parent_execution_id"] == parent["execution_id"]


async def test_what_cannot_be_rerun(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server, TWO_STEPS)
    parent = await run_done(server, pipeline_id)
    pid = parent["execution_id"]

    assert (await rerun(server, pid, {"from_step": 1}, team="beta")).status_code == 404
    assert (await rerun(server, "pex_nothing", {"from_step": 1})).status_code == 404
    for body in (
        {"from_step": 2},
        {"from_step": -1},
        {"from_step": 1, "page_range": "0"},  # would change what step 0 computed
        {"from_step": 1, "output_format": "html"},
        {"from_step": 1, "version": 0, "steps": TWO_STEPS},
    ):
        response = await rerun(server, pid, body)
        assert response.status_code == 422, (body, response.text)

    slow = await make_pipeline(server, [{"type": "convert", "settings": {"sleep": 1}}])
    running = (await run(server, slow)).json()
    busy = await rerun(server, running["execution_id"], {"from_step": 0})
    assert busy.status_code == 400 and "has not finished" in busy.text

    failing = await make_pipeline(
        server, [{"type": "convert", "settings": {"fail": "bad pdf"}}, TWO_STEPS[1]]
    )
    failed = await run_done(server, failing)
    incomplete = await rerun(server, failed["execution_id"], {"from_step": 1})
    assert incomplete.status_code == 400 and "did not complete" in incomplete.text


async def test_reruns_keep_the_blobs_they_reuse(server: TestServer) -> None:
    h = server.headers()
    pipeline_id = await make_pipeline(server, TWO_STEPS)
    parent = await run_done(server, pipeline_id)
    child = await rerun_done(server, parent["execution_id"], {"from_step": 1})

    await server.client.delete(f"/api/v1/pipelines/executions/{parent['execution_id']}", headers=h)
    kept = await server.client.get(child["steps"][0]["result_url"], headers=h)
    assert kept.status_code == 200
    grandchild = await rerun_done(server, child["execution_id"], {"from_step": 1})
    assert grandchild["steps"][0]["cache"]["source_execution_id"] == child["execution_id"]

    for execution in (child, grandchild):
        url = f"/api/v1/pipelines/executions/{execution['execution_id']}"
        assert (await server.client.delete(url, headers=h)).status_code == 200
    assert stored_blobs(server) == []


async def test_an_idempotency_key_on_rerun(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server, TWO_STEPS)
    parent = await run_done(server, pipeline_id)
    key = {"headers": {"Idempotency-Key": "rerun-1"}}

    answers = await asyncio.gather(
        *(rerun(server, parent["execution_id"], {"from_step": 1}, **key) for _ in range(3))
    )

    assert len({a.json()["execution_id"] for a in answers}) == 1
    other = await rerun(server, parent["execution_id"], {"from_step": 0}, **key)
    assert other.status_code == 409
