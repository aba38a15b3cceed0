"""Provenance of an execution and estimates of a run (pagemill extensions)."""

from __future__ import annotations

import asyncio
import hashlib
import importlib.metadata
from pathlib import Path

from tests.component.test_executions_api import make_pipeline, run, wait_done
from tests.component.test_files_api import upload
from tests.support.app import TestServer, test_server
from tests.support.processors import test_registry

EXECUTIONS = "/api/v1/pipelines/executions"
DOCUMENT = b"%PDF-1.4 provenance"


async def provenance(server: TestServer, execution_id: str, team: str = "alpha") -> dict:  # type: ignore[type-arg]
    response = await server.client.get(
        f"{EXECUTIONS}/{execution_id}/provenance", headers=server.headers(team)
    )
    assert response.status_code == 200, response.text
    body: dict = response.json()  # type: ignore[type-arg]
    return body


async def test_provenance_tells_input_configuration_producers_and_attempts(
    server: TestServer,
) -> None:
    steps = [{"type": "convert", "settings": {"sleep": 0}}, {"type": "segment", "settings": {}}]
    pipeline_id = await make_pipeline(server, steps)
    execution_id = (await run(server, pipeline_id, content=DOCUMENT)).json()["execution_id"]
    await wait_done(server, execution_id)

    found = await provenance(server, execution_id)

    assert found["input"]["input_sha256"] == hashlib.sha256(DOCUMENT).hexdigest()
    assert found["input"]["file_size"] == len(DOCUMENT) and found["input"]["page_count"] == 1
    assert found["config_snapshot"]["steps"][0] == steps[0]
    assert found["attempt_history"] == "complete"
    convert, segment = found["steps"]
    assert convert["settings"] == {"sleep": 0} and convert["status"] == "completed"
    producer = convert["produced_by"]
    assert producer["processor_version"] == "test-1" and producer["step_type"] == "convert"
    assert producer["libraries"]["pypdfium2"] == importlib.metadata.version("pypdfium2")
    assert segment["produced_by"]["libraries"] == {}
    assert [a["outcome"] for a in convert["attempt_log"]] == ["completed"]
    worker = convert["attempt_log"][0]["worker"]
    assert worker and convert["attempt_log"][0]["started_at"]
    assert convert["cache"]["status"] == "miss" and convert["reused_from"] is None

    # The same document again: the convert result is reused, and says from where.
    again = (await run(server, pipeline_id, content=DOCUMENT)).json()["execution_id"]
    await wait_done(server, again)
    reused = (await provenance(server, again))["steps"][0]
    assert reused["cache"]["status"] == "hit"
    assert reused["reused_from"]["execution_id"] == execution_id
    assert reused["reused_from"]["provenance"]["worker"] == worker


async def test_provenance_lists_failed_attempts_while_the_log_lasts(
    server: TestServer, tmp_path: Path
) -> None:
    marker = tmp_path / "failed-once"
    pipeline_id = await make_pipeline(
        server, [{"type": "convert", "settings": {"fail_marker": str(marker)}}]
    )
    execution_id = (await run(server, pipeline_id)).json()["execution_id"]
    await wait_done(server, execution_id)

    step = (await provenance(server, execution_id))["steps"][0]

    assert step["attempts"] == 2
    assert [(a["attempt"], a["outcome"]) for a in step["attempt_log"]] == [
        (1, "retried"),
        (2, "completed"),
    ]
    assert step["attempt_log"][0]["error"] == "transient failure"
    assert all(a["worker"] for a in step["attempt_log"])


async def test_provenance_after_the_live_log_expired_keeps_the_ledgers_facts(
    tmp_path: Path,
) -> None:
    async with test_server(
        tmp_path / "data", test_registry(), live_ttl_after_finish_seconds=0
    ) as server:
        pipeline_id = await make_pipeline(server)
        execution_id = (await run(server, pipeline_id)).json()["execution_id"]
        await wait_done(server, execution_id)
        for _ in range(100):  # the final snapshot reaches the live store just after the commit
            found = await provenance(server, execution_id)
            if found["attempt_history"] == "partial":
                break
            await asyncio.sleep(0.02)
    assert found["attempt_history"] == "partial"
    (step,) = found["steps"]
    assert [a["outcome"] for a in step["attempt_log"]] == ["completed"]
    assert step["attempt_log"][0]["worker"], "the result's own record names its worker"


async def test_provenance_and_estimates_of_another_team_are_not_found(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server)
    execution_id = (await run(server, pipeline_id)).json()["execution_id"]
    await wait_done(server, execution_id)
    beta = server.headers("beta")
    seen = await server.client.get(f"{EXECUTIONS}/{execution_id}/provenance", headers=beta)
    estimated = await server.client.post(
        f"/api/v1/pipelines/{pipeline_id}/estimate", json={"page_count": 3}, headers=beta
    )
    assert (seen.status_code, estimated.status_code) == (404, 404)


async def test_an_estimate_from_a_page_count_prices_every_step(server: TestServer) -> None:
    steps = [{"type": "convert", "settings": {}}, {"type": "segment", "settings": {}}]
    pipeline_id = await make_pipeline(server, steps)

    response = await server.client.post(
        f"/api/v1/pipelines/{pipeline_id}/estimate",
        json={"page_count": 250},
        headers=server.headers(),
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["page_count"] == 250 and body["pipeline_version"] == 0
    # 400 + 200 cents per 1,000 pages, over 250 pages: 150 cents.
    assert body["cost"]["rate_per_1000_pages_cents"] == 600
    assert body["cost"]["total_cost_cents"] == 150
    duration = body["duration"]
    assert duration["based_on_executions"] == 0 and duration["expected_seconds"] is None


async def test_an_estimate_counts_the_document_and_uses_recent_runs(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server)
    for n in range(3):
        execution_id = (await run(server, pipeline_id, content=b"%%PDF-1.4 %d" % n)).json()[
            "execution_id"
        ]
        await wait_done(server, execution_id)

    response = await server.client.post(
        f"/api/v1/pipelines/{pipeline_id}/estimate",
        files={"file": ("one.pdf", b"%PDF-1.4 estimate", "application/pdf")},
        data={"page_range": "0"},
        headers=server.headers(),
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["page_count"] == 1
    assert body["cost"]["total_cost_cents"] == 1  # ceil(400 * 1 / 1000)
    duration = body["duration"]
    assert duration["based_on_executions"] == 3
    per_page = duration["processing_seconds_per_page"]
    assert 0 <= per_page["p50"] <= per_page["p95"]
    expected = duration["expected_seconds"]
    assert 0 <= expected["p50"] <= expected["p95"]
    assert duration["queue"]["queued_steps"] >= 0
    # Nothing was queued, and the document was not kept.
    listed = await server.client.get(
        f"/api/v1/pipelines/{pipeline_id}/executions", headers=server.headers()
    )
    assert listed.json()["total"] == 3
    usage = await server.client.get("/api/v1/teams/current/usage", headers=server.headers())
    before = usage.json()["storage_bytes"]
    await server.client.post(
        f"/api/v1/pipelines/{pipeline_id}/estimate",
        files={"file": ("one.pdf", b"%PDF-1.4 estimate", "application/pdf")},
        headers=server.headers(),
    )
    usage = await server.client.get("/api/v1/teams/current/usage", headers=server.headers())
    assert usage.json()["storage_bytes"] == before


async def test_an_estimate_without_a_document_or_pages_is_refused(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server)
    url = f"/api/v1/pipelines/{pipeline_id}/estimate"
    nothing = await server.client.post(url, json={}, headers=server.headers())
    both = await server.client.post(
        url,
        files={"file": ("a.pdf", b"%PDF-1.4", "application/pdf")},
        data={"page_count": "2"},
        headers=server.headers(),
    )
    negative = await server.client.post(url, json={"page_count": 0}, headers=server.headers())
    not_json = await server.client.post(
        url, content=b"{", headers={**server.headers(), "Content-Type": "application/json"}
    )
    unknown_version = await server.client.post(
        url, json={"page_count": 2, "version": 7}, headers=server.headers()
    )
    assert [r.status_code for r in (nothing, both, negative, not_json)] == [422] * 4
    assert unknown_version.status_code == 404


async def test_an_estimate_by_file_url_counts_an_uploaded_file_and_keeps_it(
    server: TestServer,
) -> None:
    pipeline_id = await make_pipeline(server)
    created = await upload(server)
    usage = await server.client.get("/api/v1/teams/current/usage", headers=server.headers())
    before = usage.json()["storage_bytes"]

    response = await server.client.post(
        f"/api/v1/pipelines/{pipeline_id}/estimate",
        json={"file_url": created["reference"]},
        headers=server.headers(),
    )

    assert response.status_code == 200, response.text
    assert response.json()["page_count"] == 1
    usage = await server.client.get("/api/v1/teams/current/usage", headers=server.headers())
    assert usage.json()["storage_bytes"] == before  # the run's copy went, the file stays
    kept = await server.client.get(f"/api/v1/files/{created['file_id']}", headers=server.headers())
    assert kept.json()["upload_status"] == "completed"
    other = await server.client.post(
        f"/api/v1/pipelines/{pipeline_id}/estimate",
        json={"file_url": "http://127.0.0.1:9/private.pdf"},
        headers=server.headers(),
    )
    assert other.status_code == 422  # the URL guard refuses loopback, as for a run
