"""Running pipelines and reading executions, through the ASGI app with fake processors."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.support.app import TestServer, test_server
from tests.support.processors import test_registry
from tests.support.wire import assert_execution_shape

TERMINAL = {"completed", "completed_with_errors", "failed", "cancelled"}


async def make_pipeline(
    server: TestServer, steps: list[dict[str, Any]] | None = None, team: str = "alpha"
) -> str:
    response = await server.client.post(
        "/api/v1/pipelines",
        json={"steps": steps or [{"type": "convert", "settings": {}}]},
        headers=server.headers(team),
    )
    assert response.status_code == 200, response.text
    return str(response.json()["pipeline_id"])


async def run(
    server: TestServer,
    pipeline_id: str,
    data: dict[str, str] | None = None,
    content: bytes = b"%PDF-1.4 test",
    team: str = "alpha",
) -> Any:
    return await server.client.post(
        f"/api/v1/pipelines/{pipeline_id}/run",
        files={"file": ("report.pdf", content, "application/pdf")},
        data=data or {},
        headers=server.headers(team),
    )


async def wait_done(server: TestServer, execution_id: str, team: str = "alpha") -> dict[str, Any]:
    for _ in range(500):
        response = await server.client.get(
            f"/api/v1/pipelines/executions/{execution_id}", headers=server.headers(team)
        )
        body: dict[str, Any] = response.json()
        assert_execution_shape(body)
        if body["status"] in TERMINAL:
            return body
        await asyncio.sleep(0.02)
    raise AssertionError(f"{execution_id} did not finish")


async def test_run_returns_pending_execution_then_completes(server: TestServer) -> None:
    pipeline_id = await make_pipeline(
        server, [{"type": "convert", "settings": {}}, {"type": "segment", "settings": {}}]
    )
    response = await run(server, pipeline_id)
    assert response.status_code == 200, response.text
    started = response.json()
    assert_execution_shape(started)
    assert started["execution_id"].startswith("pex_")
    assert started["status"] == "pending" and started["pipeline_version"] == 0
    assert [s["status"] for s in started["steps"]] == ["dispatched", "pending"]

    done = await wait_done(server, started["execution_id"])
    assert done["status"] == "completed"
    assert all(s["status"] == "completed" and s["finished_at"] for s in done["steps"])
    assert done["steps"][0]["checkpoint_id"].startswith("ckpt_")
    assert done["input_config"]["filename"] == "report.pdf"
    assert done["input_config"]["file_size"] == len(b"%PDF-1.4 test")
    assert done["input_config"]["page_count"] == 1
    assert done["rate_breakdown"]["total_cost_cents"] == 1  # ceil(600 * 1 / 1000): rounded once
    assert done["config_snapshot"]["steps"][1]["type"] == "segment"

    result = await server.client.get(done["steps"][1]["result_url"], headers=server.headers())
    segments = result.json()["segmentation_results"]["segments"]
    assert segments == [{"name": "REPORT.PDF: 13 BYTES"}]  # read the convert checkpoint


async def test_form_booleans_and_overrides_as_the_sdk_sends_them(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server)
    response = await run(
        server,
        pipeline_id,
        {
            "skip_cache": "True",
            "run_evals": "False",
            "page_range": "0,2-4",
            "output_format": "markdown,json",
            "version": "0",
        },
    )
    assert response.status_code == 200, response.text
    config = response.json()["input_config"]
    assert (config["skip_cache"], config["run_evals"]) == (True, False)
    assert config["page_range"] == "0,2-4" and config["output_format"] == "markdown,json"


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        ({"page_range": "3-1"}, None),
        ({"page_range": "a"}, None),
        ({"output_format": "pdf"}, None),
        ({"skip_cache": "maybe"}, ["body", "skip_cache"]),
        ({"version": "-1"}, ["body", "version"]),
    ],
)
async def test_bad_run_fields_are_422(
    server: TestServer, data: dict[str, str], loc: list[str] | None
) -> None:
    pipeline_id = await make_pipeline(server)
    response = await run(server, pipeline_id, data)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail[0]["msg"]
    if loc is not None:
        assert detail[0]["loc"] == loc


async def test_file_or_file_url_exactly_one(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server)
    url = f"/api/v1/pipelines/{pipeline_id}/run"
    neither = await server.client.post(url, data={"page_range": "0"}, headers=server.headers())
    both = await server.client.post(
        url,
        files={"file": ("a.pdf", b"%PDF")},
        data={"file_url": "http://x.test/a.pdf"},
        headers=server.headers(),
    )
    empty = await server.client.post(url, files={"file": ("a.pdf", b"")}, headers=server.headers())
    not_multipart = await server.client.post(url, json={"file_url": "x"}, headers=server.headers())
    assert [r.status_code for r in (neither, both, empty, not_multipart)] == [422] * 4
    assert neither.json()["detail"][0]["loc"] == ["body", "file"]


async def test_file_url_must_be_http(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server)
    response = await server.client.post(
        f"/api/v1/pipelines/{pipeline_id}/run",
        data={"file_url": "file:///etc/passwd"},
        headers=server.headers(),
    )
    assert response.status_code == 422
    assert "http or https" in response.json()["detail"][0]["msg"]


async def test_uploads_over_the_cap_are_413_and_leave_nothing(tmp_path: Path) -> None:
    async with test_server(tmp_path / "d", test_registry(), max_upload_bytes=1000) as server:
        pipeline_id = await make_pipeline(server)
        response = await run(server, pipeline_id, content=b"x" * 5000)
        assert response.status_code == 413
        assert "limit" in response.json()["detail"]
        inputs = tmp_path / "d" / "blobs" / "inputs"
        assert not inputs.exists() or not any(p.is_file() for p in inputs.rglob("*"))


async def test_version_selection(server: TestServer) -> None:
    h = server.headers()
    pipeline_id = await make_pipeline(server)
    draft_run = await run(server, pipeline_id)
    assert draft_run.json()["pipeline_version"] == 0  # nothing published: the draft
    await server.client.post(f"/api/v1/pipelines/{pipeline_id}/versions", json={}, headers=h)
    assert (await run(server, pipeline_id)).json()["pipeline_version"] == 1
    assert (await run(server, pipeline_id, {"version": "0"})).json()["pipeline_version"] == 0
    assert (await run(server, pipeline_id, {"version": "1"})).json()["pipeline_version"] == 1
    missing = await run(server, pipeline_id, {"version": "7"})
    assert missing.status_code == 404 and "version 7" in missing.json()["detail"]


async def test_archived_pipelines_do_not_run(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server)
    await server.client.post(f"/api/v1/pipelines/{pipeline_id}/archive", headers=server.headers())
    response = await run(server, pipeline_id)
    assert response.status_code == 400 and "archived" in response.json()["detail"]


async def test_failed_step_skips_the_rest_and_reports_the_error(server: TestServer) -> None:
    pipeline_id = await make_pipeline(
        server,
        [
            {"type": "convert", "settings": {"fail": "cannot read page 3"}},
            {"type": "segment", "settings": {}},
        ],
    )
    done = await wait_done(server, (await run(server, pipeline_id)).json()["execution_id"])
    assert done["status"] == "failed"
    assert [s["status"] for s in done["steps"]] == ["failed", "skipped"]
    assert done["steps"][0]["error_message"] == "cannot read page 3"
    failed = await server.client.get(done["steps"][0]["result_url"], headers=server.headers())
    skipped = await server.client.get(done["steps"][1]["result_url"], headers=server.headers())
    assert failed.json() == {"status": "failed", "success": False, "error": "cannot read page 3"}
    assert skipped.json()["status"] == "skipped"


async def test_retryable_failure_is_retried(server: TestServer, tmp_path: Path) -> None:
    marker = tmp_path / "failed-once"
    pipeline_id = await make_pipeline(
        server, [{"type": "convert", "settings": {"fail_marker": str(marker)}}]
    )
    done = await wait_done(server, (await run(server, pipeline_id)).json()["execution_id"])
    assert done["status"] == "completed" and done["steps"][0]["attempt"] == 2
    assert marker.exists()


async def test_in_flight_reads_come_from_the_live_store(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server, [{"type": "convert", "settings": {"sleep": 2}}])
    execution_id = (await run(server, pipeline_id)).json()["execution_id"]
    url = f"/api/v1/pipelines/executions/{execution_id}"
    for _ in range(150):
        response = await server.client.get(url, headers=server.headers())
        # A read between a ledger commit and its mirroring into the live store is answered
        # by the ledger (the live copy is older); once mirrored, the live store answers.
        running = response.json()["steps"][0]["status"] == "running"
        if running and response.headers["X-Pagemill-Source"] == "live":
            break
        await asyncio.sleep(0.01)
    assert response.headers["X-Pagemill-Source"] == "live"
    assert response.json()["steps"][0]["started_at"]
    step_result = await server.client.get(f"{url}/steps/0/result", headers=server.headers())
    assert step_result.json()["status"] == "processing"
    await wait_done(server, execution_id)
    final = await server.client.get(url, headers=server.headers())
    assert final.headers["X-Pagemill-Source"] == "ledger"
    assert final.json()["status"] == "completed"


async def test_stale_live_data_falls_back_to_the_ledger(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server, [{"type": "convert", "settings": {"sleep": 0.3}}])
    execution_id = (await run(server, pipeline_id)).json()["execution_id"]
    live = server.runtime.services.executions._live  # the live store behind the service
    await live.close()  # lose every live entry, as after a live-store restart
    response = await server.client.get(
        f"/api/v1/pipelines/executions/{execution_id}", headers=server.headers()
    )
    assert response.status_code == 200
    if response.json()["status"] not in TERMINAL:
        assert response.headers["X-Pagemill-Source"] == "ledger"
    await wait_done(server, execution_id)


async def test_the_live_entry_is_read_while_the_ledger_head_is(
    server: TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline_id = await make_pipeline(server, [{"type": "convert", "settings": {"sleep": 2}}])
    execution_id = (await run(server, pipeline_id)).json()["execution_id"]
    executions = server.runtime.services.executions
    head_read, live_read = executions._executions.head, executions._live.get
    release_head, live_started = asyncio.Event(), asyncio.Event()

    async def held_head(*args: Any) -> Any:
        await release_head.wait()
        return await head_read(*args)

    async def watched_live(*args: Any) -> Any:
        live_started.set()
        return await live_read(*args)

    monkeypatch.setattr(executions._executions, "head", held_head)
    monkeypatch.setattr(executions._live, "get", watched_live)
    polling = asyncio.create_task(
        server.client.get(f"/api/v1/pipelines/executions/{execution_id}", headers=server.headers())
    )
    await asyncio.wait_for(live_started.wait(), 30)  # the head read has not answered yet
    release_head.set()

    assert (await polling).status_code == 200
    await wait_done(server, execution_id)


async def test_execution_routes_are_not_pipeline_routes(server: TestServer) -> None:
    missing = await server.client.get(
        "/api/v1/pipelines/executions/pex_doesnotexist", headers=server.headers()
    )
    assert missing.status_code == 404
    assert missing.json()["detail"] == "Execution pex_doesnotexist not found"


async def test_results_and_executions_are_team_scoped(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server)
    execution_id = (await run(server, pipeline_id)).json()["execution_id"]
    await wait_done(server, execution_id)
    other = server.headers("beta")
    base = f"/api/v1/pipelines/executions/{execution_id}"
    assert (await server.client.get(base, headers=other)).status_code == 404
    assert (await server.client.get(f"{base}/steps/0/result", headers=other)).status_code == 404
    out_of_range = await server.client.get(f"{base}/steps/5/result", headers=server.headers())
    assert out_of_range.status_code == 404


async def test_list_executions_newest_first(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server)
    ids = [(await run(server, pipeline_id)).json()["execution_id"] for _ in range(3)]
    listed = await server.client.get(
        f"/api/v1/pipelines/{pipeline_id}/executions",
        params={"limit": 2},
        headers=server.headers(),
    )
    body = listed.json()
    assert body["total"] == 3
    assert [e["execution_id"] for e in body["executions"]] == [ids[2], ids[1]]
    for execution in body["executions"]:
        assert_execution_shape(execution)
    for execution_id in ids:
        await wait_done(server, execution_id)
