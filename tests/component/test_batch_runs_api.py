"""Collections and batch runs through the ASGI app with fake processors."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime
from pathlib import Path
from typing import Any

from pagemill.services.executions import RunOptions
from tests.component.test_executions_api import make_pipeline, wait_done
from tests.component.test_files_api import upload
from tests.support.app import TestServer, test_server
from tests.support.processors import test_registry

TERMINAL = {"completed", "failed", "cancelled"}


async def collection_of(
    server: TestServer, count: int, team: str = "alpha"
) -> tuple[int, list[int]]:
    created = await server.client.post(
        "/api/v1/collections", json={"name": "invoices"}, headers=server.headers(team)
    )
    assert created.status_code == 200, created.text
    collection_id = created.json()["id"]
    file_ids = [
        (await upload(server, f"%PDF-1.4 file {i}".encode(), team, f"f{i}.pdf"))["file_id"]
        for i in range(count)
    ]
    if not file_ids:
        return collection_id, []
    added = await server.client.post(
        f"/api/v1/collections/{collection_id}/files",
        json={"file_ids": file_ids},
        headers=server.headers(team),
    )
    assert added.status_code == 200, added.text
    assert added.json()["added"] == count
    return collection_id, file_ids


async def start(server: TestServer, body: dict[str, Any], team: str = "alpha") -> dict[str, Any]:
    response = await server.client.post(
        "/api/v1/eval_batch_runs", json=body, headers=server.headers(team)
    )
    assert response.status_code == 200, response.text
    started: dict[str, Any] = response.json()
    return started


async def wait_run(server: TestServer, run_id: int, *, ended: bool = True) -> dict[str, Any]:
    """The run once finished (``completed_at`` set: a cancelled run has wound down)."""
    for _ in range(1500):
        response = await server.client.get(
            f"/api/v1/eval_batch_runs/{run_id}", headers=server.headers()
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert body["total_files"] >= body["completed_files"]
        if body["completed_at"] is not None or not ended:
            return body
        await asyncio.sleep(0.02)
    raise AssertionError(f"batch run {run_id} did not finish")


async def results(server: TestServer, run_id: int, **query: int) -> dict[str, Any]:
    response = await server.client.get(
        f"/api/v1/eval_batch_runs/{run_id}/results", params=query, headers=server.headers()
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_collections_crud_and_team_scope(server: TestServer) -> None:
    collection_id, file_ids = await collection_of(server, 3)
    other = (await upload(server, team="beta"))["file_id"]
    h = server.headers()

    got = (await server.client.get(f"/api/v1/collections/{collection_id}", headers=h)).json()
    assert (got["name"], got["file_count"], got["description"]) == ("invoices", 3, None)
    listed = (await server.client.get("/api/v1/collections", headers=h)).json()
    assert listed["total"] == 1 and listed["collections"][0]["id"] == collection_id

    # All or nothing: a file of another team is unknown here, and nothing is linked.
    refused = await server.client.post(
        f"/api/v1/collections/{collection_id}/files",
        json={"file_ids": [file_ids[0], other]},
        headers=h,
    )
    assert refused.status_code == 404 and str(other) in refused.json()["detail"]
    again = await server.client.post(
        f"/api/v1/collections/{collection_id}/files", json={"file_ids": file_ids[:2]}, headers=h
    )
    assert again.json() == {
        "success": True,
        "collection_id": collection_id,
        "added": 0,
        "file_count": 3,
    }
    files = await server.client.get(f"/api/v1/collections/{collection_id}/files", headers=h)
    assert [f["file_id"] for f in files.json()["files"]] == file_ids  # in the order added

    removed = await server.client.post(
        f"/api/v1/collections/{collection_id}/files/remove",
        json={"file_ids": [file_ids[0]]},
        headers=h,
    )
    assert (removed.json()["removed"], removed.json()["file_count"]) == (1, 2)
    one = await server.client.delete(
        f"/api/v1/collections/{collection_id}/files/{file_ids[1]}", headers=h
    )
    assert (one.json()["removed"], one.json()["file_count"]) == (1, 1)
    # Deleting a file unlinks it.
    await server.client.delete(f"/api/v1/files/{file_ids[2]}", headers=h)
    got = (await server.client.get(f"/api/v1/collections/{collection_id}", headers=h)).json()
    assert got["file_count"] == 0

    beta = server.headers("beta")
    for method, path in [
        ("GET", f"/api/v1/collections/{collection_id}"),
        ("GET", f"/api/v1/collections/{collection_id}/files"),
        ("DELETE", f"/api/v1/collections/{collection_id}"),
    ]:
        assert (await server.client.request(method, path, headers=beta)).status_code == 404
    assert (
        await server.client.delete(f"/api/v1/collections/{collection_id}", headers=h)
    ).status_code == 200
    assert (
        await server.client.get(f"/api/v1/collections/{collection_id}", headers=h)
    ).status_code == 404


async def test_bad_collection_requests_are_4xx(server: TestServer) -> None:
    h = server.headers()
    assert (
        await server.client.post("/api/v1/collections", json={"name": ""}, headers=h)
    ).status_code == 422
    assert (
        await server.client.post("/api/v1/collections", json={"name": "  "}, headers=h)
    ).status_code == 422
    collection_id, _ = await collection_of(server, 0)
    empty = await server.client.post(
        f"/api/v1/collections/{collection_id}/files", json={"file_ids": []}, headers=h
    )
    assert empty.status_code == 422
    too_many = await server.client.post(
        f"/api/v1/collections/{collection_id}/files",
        json={"file_ids": list(range(1, 1002))},
        headers=h,
    )
    assert too_many.status_code == 422
    assert (await server.client.get("/api/v1/collections/0", headers=h)).status_code == 422
    assert (await server.client.get("/api/v1/collections/12345", headers=h)).status_code == 404


async def test_a_batch_run_processes_every_file_once(server: TestServer) -> None:
    collection_id, file_ids = await collection_of(server, 6)
    pipeline_id = await make_pipeline(
        server, [{"type": "convert", "settings": {}}, {"type": "segment", "settings": {}}]
    )
    started = await start(server, {"collection_id": collection_id, "pipeline_id": pipeline_id})
    assert started["status"] == "pending" and started["total_files"] == 6
    assert started["pipeline_type"] == "pipeline" and started["eval_rubric_id"] is None

    done = await wait_run(server, started["id"])
    assert done["status"] == "completed"
    assert (done["completed_files"], done["succeeded_files"], done["failed_files"]) == (6, 6, 0)
    assert done["started_at"] is not None and done["avg_score"] is None

    page = await results(server, started["id"], limit=4, offset=2)
    assert page["total"] == 6 and page["batch_run"]["id"] == started["id"]
    assert [r["filename"] for r in page["file_results"]] == ["f2.pdf", "f3.pdf", "f4.pdf", "f5.pdf"]
    everything = (await results(server, started["id"]))["file_results"]
    assert [r["file_id"] for r in everything] == file_ids
    keys = [r["lookup_key"] for r in everything]
    assert len(set(keys)) == 6 and all(r["status"] == "completed" for r in everything)
    for key in keys:  # each a real execution of the pipeline
        execution = await wait_done(server, key)
        assert execution["status"] == "completed" and execution["pipeline_id"] == pipeline_id
    listed = await server.client.get(
        f"/api/v1/pipelines/{pipeline_id}/executions", headers=server.headers()
    )
    assert listed.json()["total"] == 6
    runs = await server.client.get(
        "/api/v1/eval_batch_runs", params={"collection_id": collection_id}, headers=server.headers()
    )
    assert [r["id"] for r in runs.json()["batch_runs"]] == [started["id"]]


async def test_admission_stays_within_the_pages_in_flight_budget(tmp_path: Path) -> None:
    # A limit of 2 pages and a share of one half: one one-page file in flight at a time.
    async with test_server(
        tmp_path / "data", test_registry(), max_pages_in_flight=2, batch_in_flight_share=0.5
    ) as server:
        collection_id, _ = await collection_of(server, 4)
        pipeline_id = await make_pipeline(
            server, [{"type": "convert", "settings": {"sleep": 0.05}}]
        )
        started = await start(server, {"collection_id": collection_id, "pipeline_id": pipeline_id})
        assert (await wait_run(server, started["id"]))["status"] == "completed"
        spans = []
        for item in (await results(server, started["id"]))["file_results"]:
            execution = await wait_done(server, item["lookup_key"])
            spans.append((_at(execution["created"]), _at(execution["completed_at"])))
        spans.sort()
        # Each execution was admitted only once the previous one had ended.
        assert all(later[0] >= earlier[1] for earlier, later in itertools.pairwise(spans))


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_failed_files_and_vanished_files_are_reported(server: TestServer) -> None:
    collection_id, file_ids = await collection_of(server, 3)
    pipeline_id = await make_pipeline(server, [{"type": "convert", "settings": {"fail": "broken"}}])
    await server.client.delete(f"/api/v1/files/{file_ids[1]}", headers=server.headers())
    started = await start(server, {"collection_id": collection_id, "pipeline_id": pipeline_id})
    assert started["total_files"] == 2  # the deleted file left the collection
    done = await wait_run(server, started["id"])
    assert done["status"] == "failed"
    assert (done["completed_files"], done["failed_files"]) == (2, 2)
    items = (await results(server, started["id"]))["file_results"]
    assert all(i["status"] == "failed" and "failed" in i["error_message"] for i in items)


async def test_cancel_stops_admission_and_cancels_running_files(tmp_path: Path) -> None:
    async with test_server(
        tmp_path / "data", test_registry(), max_pages_in_flight=2, batch_in_flight_share=0.5
    ) as server:
        collection_id, _ = await collection_of(server, 5)
        pipeline_id = await make_pipeline(server, [{"type": "convert", "settings": {"sleep": 0.3}}])
        started = await start(server, {"collection_id": collection_id, "pipeline_id": pipeline_id})
        for _ in range(200):  # the first file is admitted
            if (await wait_run(server, started["id"], ended=False))["running_files"]:
                break
            await asyncio.sleep(0.02)
        cancelled = await server.client.post(
            f"/api/v1/eval_batch_runs/{started['id']}/cancel", headers=server.headers()
        )
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        done = await wait_run(server, started["id"])
        assert done["status"] == "cancelled" and done["completed_files"] == 5
        assert done["cancelled_files"] >= 4 and done["pending_files"] == done["running_files"] == 0
        listed = await server.client.get(
            f"/api/v1/pipelines/{pipeline_id}/executions", headers=server.headers()
        )
        assert listed.json()["total"] <= 2  # nothing admitted after the cancel
        again = await server.client.post(
            f"/api/v1/eval_batch_runs/{started['id']}/cancel", headers=server.headers()
        )
        assert again.json()["completed_at"] == done["completed_at"]


async def test_a_run_resumes_after_a_restart_without_running_a_file_twice(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with test_server(
        data, test_registry(), max_pages_in_flight=2, batch_in_flight_share=0.5
    ) as server:
        collection_id, _ = await collection_of(server, 4)
        pipeline_id = await make_pipeline(server, [{"type": "convert", "settings": {"sleep": 0.2}}])
        started = await start(server, {"collection_id": collection_id, "pipeline_id": pipeline_id})
        run_id = started["id"]
        for _ in range(200):
            if (await wait_run(server, run_id, ended=False))["running_files"]:
                break
            await asyncio.sleep(0.02)
        # A previous admitter died between reserving an id and creating the execution.
        ledger = server.runtime.ledger
        pending = await ledger.batch_runs.pending(run_id, 10)
        reserved = pending[-1]
        assert await ledger.batch_runs.reserve(run_id, reserved.position, "pex_reservedbeforecrash")
        # Another died after creating the execution, before marking its file running.
        created = pending[-2]
        assert await ledger.batch_runs.reserve(run_id, created.position, "pex_createdbeforecrash")
        run = await ledger.batch_runs.get(run_id, None)
        assert run is not None
        executions = server.services.executions
        document = await executions.fetch(f"datalab://file-{created.file_id}", run.team_id)
        await executions.run(
            run.team_id,
            pipeline_id,
            RunOptions(),
            document,
            execution_id="pex_createdbeforecrash",
        )
        keys = dict(server.keys)
    async with test_server(data, test_registry()) as server:
        server.keys.update(keys)
        done = await wait_run(server, run_id)
        assert done["status"] == "completed" and done["succeeded_files"] == 4
        items = (await results(server, run_id))["file_results"]
        assert items[reserved.position - 1]["lookup_key"] == "pex_reservedbeforecrash"
        assert items[created.position - 1]["lookup_key"] == "pex_createdbeforecrash"
        listed = await server.client.get(
            f"/api/v1/pipelines/{pipeline_id}/executions", headers=server.headers()
        )
        assert listed.json()["total"] == 4
        assert {e["execution_id"] for e in listed.json()["executions"]} == {
            i["lookup_key"] for i in items
        }


async def test_an_eval_rubric_scores_each_file(server: TestServer) -> None:
    definition = {
        "rules": [{"name": "has pages", "type": "numeric_range", "field": "page_count", "min": 1}]
    }
    created = await server.client.post(
        "/api/v1/eval_rubrics",
        json={"name": "Pages", "eval_definition": definition},
        headers=server.headers(),
    )
    assert created.status_code == 200, created.text
    rubric_id = created.json()["id"]
    collection_id, _ = await collection_of(server, 2)
    pipeline_id = await make_pipeline(server)
    beta_collection, _ = await collection_of(server, 1, team="beta")
    beta_pipeline = await make_pipeline(server, team="beta")
    for team, body in (
        ("alpha", {"collection_id": collection_id, "pipeline_id": pipeline_id}),
        ("beta", {"collection_id": beta_collection, "pipeline_id": beta_pipeline}),
    ):
        # An unknown rubric, and another team's, are both not found.
        wanted = rubric_id + 1 if team == "alpha" else rubric_id
        unknown = await server.client.post(
            "/api/v1/eval_batch_runs",
            json={**body, "eval_rubric_id": wanted},
            headers=server.headers(team),
        )
        assert unknown.status_code == 404, unknown.text
    started = await start(
        server,
        {"collection_id": collection_id, "pipeline_id": pipeline_id, "eval_rubric_id": rubric_id},
    )
    done = await wait_run(server, started["id"])
    assert (done["avg_score"], done["eval_applied"], done["eval_rubric_id"]) == (
        1.0,
        True,
        rubric_id,
    )
    for item in (await results(server, started["id"]))["file_results"]:
        assert item["eval_score"] == 1.0
        assert item["eval_results"]["evaluations"][0]["name"] == "has pages"


async def test_without_a_rubric_store_the_rubric_is_recorded_not_applied(
    server: TestServer,
) -> None:
    server.services.batches.rubrics = None  # a service built without the rubric store
    server.services.batch_admitter.rubrics = None
    collection_id, _ = await collection_of(server, 1)
    pipeline_id = await make_pipeline(server)
    started = await start(
        server, {"collection_id": collection_id, "pipeline_id": pipeline_id, "eval_rubric_id": 3}
    )
    done = await wait_run(server, started["id"])
    assert (done["eval_rubric_id"], done["eval_applied"], done["avg_score"]) == (3, False, None)
    assert (await results(server, started["id"]))["file_results"][0]["eval_score"] is None


async def test_bad_batch_requests_are_4xx(server: TestServer) -> None:
    collection_id, _ = await collection_of(server, 1)
    pipeline_id = await make_pipeline(server)
    h = server.headers()
    cases = [
        ({"collection_id": 999, "pipeline_id": pipeline_id}, 404),
        ({"collection_id": collection_id, "pipeline_id": "pl_nope"}, 404),
        ({"collection_id": collection_id, "pipeline_id": pipeline_id, "version": 3}, 404),
        ({"collection_id": collection_id, "pipeline_id": pipeline_id, "page_range": "x"}, 422),
        ({"collection_id": collection_id, "pipeline_id": pipeline_id, "output_format": "pdf"}, 422),
        ({"collection_id": collection_id}, 422),
    ]
    for body, status in cases:
        response = await server.client.post("/api/v1/eval_batch_runs", json=body, headers=h)
        assert response.status_code == status, (body, response.text)
    beta = await server.client.post(
        "/api/v1/eval_batch_runs",
        json={"collection_id": collection_id, "pipeline_id": pipeline_id},
        headers=server.headers("beta"),
    )
    assert beta.status_code == 404
    assert (await server.client.get("/api/v1/eval_batch_runs/5", headers=h)).status_code == 404
