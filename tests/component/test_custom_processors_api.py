"""Custom processors through the ASGI app: CRUD, pipeline checks, and convert → custom runs.

The server runs the real convert and custom processors (``ProcessorRegistry.builtin()``) with
one installed transform, ``cp_upper``, provided by a faked ``pagemill.processors`` entry point.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from docgen.pdfgen import make_pdf
from pagemill.processors.registry import ProcessorRegistry
from tests.support.app import TestServer, test_server
from tests.support.runs import run_to_completion

CP = "/api/v1/custom_processors"
DROP_LISTS: dict[str, Any] = {"rules": [{"action": "drop", "match": {"type": "list_item"}}]}
SHOUT: dict[str, Any] = {
    "rules": [{"action": "rename", "match": {"pattern": "Terms"}, "to": "TERMS"}],
    "classify_pages": {"contract": ["agreement"]},
}
ITEM_KEYS = {
    "processor_id",
    "name",
    "status",
    "success",
    "active_version",
    "max_version",
    "iteration_in_progress",
    "pipeline_id",
    "created_at",
    "completed_at",
    "error_message",
    "eval_rubric_id",
}


@pytest.fixture
async def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[TestServer]:
    point = importlib.metadata.EntryPoint(
        "upper", "tests.unit.processors.test_custom:UpperTransform", "pagemill.processors"
    )
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda **_: [point])
    async with test_server(tmp_path / "data", ProcessorRegistry.builtin()) as running:
        yield running


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    pages = [
        [("h1", "Offer"), ("p", "Prices in EUR."), ("li", "Tea"), ("li", "Cake")],
        [("h2", "Terms"), ("p", "This agreement binds both sides.")],
    ]
    return make_pdf(tmp_path_factory.mktemp("api") / "offer.pdf", pages).read_bytes()


async def create(
    server: TestServer, definition: dict[str, Any], team: str = "alpha", name: str = "Lists"
) -> str:
    response = await server.client.post(
        CP, json={"name": name, "definition": definition}, headers=server.headers(team)
    )
    assert response.status_code == 200, response.text
    return str(response.json()["processor_id"])


async def pipeline(
    server: TestServer, processor_id: str, settings: dict[str, Any] | None = None
) -> Any:
    steps = [
        {"type": "convert", "settings": {}},
        {"type": "custom", "custom_processor_id": processor_id, "settings": settings or {}},
    ]
    return await server.client.post(
        "/api/v1/pipelines", json={"steps": steps}, headers=server.headers()
    )


async def run_to_end(server: TestServer, pipeline_id: str, pdf: bytes) -> dict[str, Any]:
    execution, result = await run_to_completion(server, pipeline_id, "offer.pdf", pdf)
    return {"execution": execution, "result": result}


async def test_create_answers_like_a_finished_generation_request(server: TestServer) -> None:
    response = await server.client.post(
        CP,
        json={"name": "Lists", "definition": DROP_LISTS, "description": "no lists"},
        headers=server.headers(),
    )

    body = response.json()
    assert body["success"] is True and body["processor_id"].startswith("cp_")
    assert body["response_check_url"] == f"{CP}/{body['processor_id']}"
    status = (await server.client.get(body["response_check_url"], headers=server.headers())).json()
    assert (status["status"], status["success"], status["error"]) == ("complete", True, None)
    assert (status["processor_id"], status["active_version"], status["max_version"]) == (
        body["processor_id"],
        1,
        1,
    )


async def test_list_shows_the_teams_own_then_installed_ones(server: TestServer) -> None:
    first = await create(server, DROP_LISTS, name="First")
    second = await create(server, SHOUT, name="Second")
    await create(server, DROP_LISTS, team="beta")

    body = (await server.client.get(CP, headers=server.headers())).json()
    page = (await server.client.get(f"{CP}?limit=2&offset=1", headers=server.headers())).json()

    assert [p["processor_id"] for p in body["pipelines"]] == [second, first, "cp_upper"]
    assert body["total"] == 3 and page["total"] == 3
    assert [p["processor_id"] for p in page["pipelines"]] == [first, "cp_upper"]
    own, installed = body["pipelines"][0], body["pipelines"][2]
    assert set(own) >= ITEM_KEYS
    assert (own["status"], own["success"], own["iteration_in_progress"]) == (
        "completed",
        True,
        False,
    )
    assert (own["pipeline_id"], own["error_message"], own["eval_rubric_id"]) == (None, None, None)
    assert own["created_at"].endswith("Z") and own["read_only"] is False
    assert (installed["name"], installed["active_version"], installed["read_only"]) == (
        "Upper-caser",
        1,
        True,
    )


async def test_invalid_definitions_are_422_naming_the_rule(server: TestServer) -> None:
    bad = {"rules": [{"action": "drop", "match": {"pattern": "(a+)+"}}]}
    response = await server.client.post(
        CP, json={"name": "x", "definition": bad}, headers=server.headers()
    )
    no_name = await server.client.post(CP, json={"definition": bad}, headers=server.headers())

    assert response.status_code == 422
    assert "definition.rules[0].match.pattern" in response.json()["detail"][0]["msg"]
    assert no_name.status_code == 422 and no_name.json()["detail"][0]["loc"] == ["body", "name"]


async def test_iterate_versions_and_set_active(server: TestServer) -> None:
    h = server.headers()
    processor_id = await create(server, DROP_LISTS)

    iterated = await server.client.post(
        f"{CP}/{processor_id}/iterate", json={"definition": SHOUT, "description": "v2"}, headers=h
    )
    versions = (await server.client.get(f"{CP}/{processor_id}/versions", headers=h)).json()
    one = (await server.client.get(f"{CP}/{processor_id}/versions/1", headers=h)).json()
    activated = await server.client.post(
        f"{CP}/{processor_id}/set_active", data={"version": "1"}, headers=h
    )
    missing = await server.client.post(
        f"{CP}/{processor_id}/set_active", data={"version": "9"}, headers=h
    )
    not_a_number = await server.client.post(
        f"{CP}/{processor_id}/set_active", data={"version": "two"}, headers=h
    )

    assert iterated.status_code == 200, iterated.text
    assert (iterated.json()["version"], iterated.json()["is_active"]) == (2, True)
    assert [(v["version"], v["is_active"]) for v in versions["versions"]] == [(2, True), (1, False)]
    assert versions["versions"][0]["request_description"] == "v2"
    assert set(versions["versions"][0]) == {
        "version",
        "request_description",
        "created_at",
        "runtime",
        "is_active",
    }
    assert one["definition"] == DROP_LISTS and one["version"] == 1
    assert activated.status_code == 200 and activated.json()["active_version"] == 1
    assert activated.json()["max_version"] == 2
    assert missing.status_code == 404 and "Version 9" in missing.json()["detail"]
    assert not_a_number.status_code == 422
    assert not_a_number.json()["detail"][0]["loc"] == ["body", "version"]


async def test_archive_hides_it_and_the_deprecated_twins_work(server: TestServer) -> None:
    h = server.headers()
    processor_id = await create(server, DROP_LISTS)
    old = "/api/v1/custom_pipelines"

    twin_get = await server.client.get(f"{old}/{processor_id}", headers=h)
    twin_versions = await server.client.get(f"{old}/{processor_id}/versions", headers=h)
    twin_active = await server.client.post(
        f"{old}/{processor_id}/set_active", data={"version": "1"}, headers=h
    )
    archived = await server.client.post(f"{old}/{processor_id}/archive", headers=h)
    listed = (await server.client.get(old, headers=h)).json()
    iterate = await server.client.post(
        f"{CP}/{processor_id}/iterate", json={"definition": SHOUT}, headers=h
    )

    assert twin_get.json()["status"] == "complete"
    assert len(twin_versions.json()["versions"]) == 1
    assert twin_active.json()["active_version"] == 1
    assert archived.status_code == 200 and archived.json()["archived"] is True
    assert [p["processor_id"] for p in listed["pipelines"]] == ["cp_upper"]
    assert iterate.status_code == 400 and "archived" in iterate.json()["detail"]


async def test_other_teams_processors_are_not_found(server: TestServer) -> None:
    processor_id = await create(server, DROP_LISTS)
    h = server.headers("beta")
    responses = [
        await server.client.get(f"{CP}/{processor_id}", headers=h),
        await server.client.get(f"{CP}/{processor_id}/versions", headers=h),
        await server.client.get(f"{CP}/{processor_id}/versions/1", headers=h),
        await server.client.post(
            f"{CP}/{processor_id}/set_active", data={"version": "1"}, headers=h
        ),
        await server.client.post(f"{CP}/{processor_id}/archive", headers=h),
        await server.client.post(
            f"{CP}/{processor_id}/iterate", json={"definition": SHOUT}, headers=h
        ),
    ]
    assert [r.status_code for r in responses] == [404] * 6


async def test_installed_processors_are_read_only(server: TestServer) -> None:
    h = server.headers()
    versions = (await server.client.get(f"{CP}/cp_upper/versions", headers=h)).json()
    one = (await server.client.get(f"{CP}/cp_upper/versions/1", headers=h)).json()
    iterate = await server.client.post(
        f"{CP}/cp_upper/iterate", json={"definition": SHOUT}, headers=h
    )
    archive = await server.client.post(f"{CP}/cp_upper/archive", headers=h)

    assert [v["version"] for v in versions["versions"]] == [1]
    assert one["definition"]["entry_point"] == "upper"
    assert one["definition"]["transform_version"] == "1.2"
    assert iterate.status_code == archive.status_code == 400
    assert "cannot be changed" in archive.json()["detail"]


async def test_custom_steps_must_reference_a_usable_processor(server: TestServer) -> None:
    h = server.headers()
    others = await create(server, DROP_LISTS, team="beta")
    mine = await create(server, DROP_LISTS)

    unknown = await pipeline(server, "cp_doesNotExist")
    foreign = await pipeline(server, others)
    pinned_missing = await pipeline(server, mine, {"version": 4})
    reserved = await pipeline(server, mine, {"_definition": DROP_LISTS})
    created = await pipeline(server, mine)
    pipeline_id = created.json()["pipeline_id"]
    update = await server.client.put(
        f"/api/v1/pipelines/{pipeline_id}",
        json={"steps": [{"type": "convert"}, {"type": "custom", "custom_processor_id": others}]},
        headers=h,
    )
    await server.client.post(f"{CP}/{mine}/archive", headers=h)
    publish = await server.client.post(
        f"/api/v1/pipelines/{pipeline_id}/versions", json={}, headers=h
    )
    run = await server.client.post(
        f"/api/v1/pipelines/{pipeline_id}/run", files={"file": ("a.pdf", b"%PDF-1.4")}, headers=h
    )

    def message(response: Any) -> str:
        assert response.status_code == 422, response.text
        return str(response.json()["detail"][0]["msg"])

    assert message(unknown) == "Step 1 (custom): custom processor 'cp_doesNotExist' not found."
    assert f"custom processor {others!r} not found" in message(foreign)
    assert f"custom processor {others!r} not found" in message(update)
    assert f"custom processor {mine} has no version 4" in message(pinned_missing)
    assert "'_definition' is reserved" in message(reserved)
    assert created.status_code == 200
    assert f"custom processor {mine} is archived" in message(publish)
    assert f"custom processor {mine} is archived" in message(run)


async def test_convert_then_custom_end_to_end(server: TestServer, pdf: bytes) -> None:
    processor_id = await create(server, DROP_LISTS)
    created = await pipeline(server, processor_id, {"output_format": "markdown,json"})
    assert created.status_code == 200, created.text

    done = await run_to_end(server, created.json()["pipeline_id"], pdf)

    result = done["result"]
    assert result["status"] == "complete" and result["output_format"] == "markdown,json"
    assert "Prices in EUR." in result["markdown"] and "Tea" not in result["markdown"]
    assert result["page_classification"] == [
        {"page": 0, "label": None},
        {"page": 1, "label": None},
    ]
    assert result["custom_processor"] == {"id": processor_id, "version": 1}
    assert result["checkpoint_id"].startswith("ckpt_")  # extract could follow
    assert done["execution"]["steps"][1]["checkpoint_id"] == result["checkpoint_id"]


async def test_set_active_changes_what_new_runs_freeze(server: TestServer, pdf: bytes) -> None:
    h = server.headers()
    processor_id = await create(server, DROP_LISTS)
    await server.client.post(f"{CP}/{processor_id}/iterate", json={"definition": SHOUT}, headers=h)
    pipeline_id = (await pipeline(server, processor_id)).json()["pipeline_id"]
    pinned_id = (await pipeline(server, processor_id, {"version": 1})).json()["pipeline_id"]

    on_two = await run_to_end(server, pipeline_id, pdf)
    pinned = await run_to_end(server, pinned_id, pdf)
    await server.client.post(f"{CP}/{processor_id}/set_active", data={"version": "1"}, headers=h)
    on_one = await run_to_end(server, pipeline_id, pdf)

    assert "## TERMS" in on_two["result"]["markdown"] and "Tea" in on_two["result"]["markdown"]
    assert on_two["result"]["page_classification"][1] == {"page": 1, "label": "contract"}
    assert "Tea" not in pinned["result"]["markdown"]
    assert "Tea" not in on_one["result"]["markdown"] and "TERMS" not in on_one["result"]["markdown"]
    frozen = await server.runtime.ledger.executions.steps(on_one["execution"]["execution_id"])
    assert frozen[1].settings["_processor"] == {"id": processor_id, "version": 1}
    assert frozen[1].settings["_definition"] == DROP_LISTS
    # The earlier run keeps what it ran with.
    earlier = await server.runtime.ledger.executions.steps(on_two["execution"]["execution_id"])
    assert earlier[1].settings["_processor"]["version"] == 2


async def test_an_installed_transform_runs_in_a_pipeline(server: TestServer, pdf: bytes) -> None:
    created = await pipeline(server, "cp_upper", {"label": "offer"})
    assert created.status_code == 200, created.text

    done = await run_to_end(server, created.json()["pipeline_id"], pdf)

    assert "PRICES IN EUR." in done["result"]["markdown"]
    assert done["result"]["page_classification"][0] == {"page": 0, "label": "offer"}
    assert done["result"]["custom_processor"] == {"id": "cp_upper", "version": 1}


async def test_the_openapi_document_lists_both_families(server: TestServer) -> None:
    paths = (await server.client.get("/openapi.json")).json()["paths"]

    assert paths[f"{CP}/{{processor_id}}/set_active"]["post"]["requestBody"]
    assert paths["/api/v1/custom_pipelines/{processor_id}/archive"]["post"]["deprecated"] is True
