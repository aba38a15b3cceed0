"""Extraction schemas through the ASGI app: CRUD, pipeline checks, and convert → extract runs
that name a saved schema by ``schema_id``.

The server runs the real convert and extract processors (``ProcessorRegistry.builtin()``) on a
generated invoice whose field values are known.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from docgen.extractgen import INVOICE_SCHEMA, GeneratedDoc, invoice, write_pdf
from pagemill.processors.registry import ProcessorRegistry
from tests.support.app import TestServer, test_server
from tests.support.runs import run_to_completion

ES = "/api/v1/extraction_schemas"
TOTALS: dict[str, Any] = {
    "type": "object",
    "properties": {"total": {"type": "number", "description": "Total amount due"}},
}
SCHEMA_KEYS = {
    "id",
    "schema_id",
    "name",
    "description",
    "schema_json",
    "version",
    "version_history",
    "archived",
    "created",
    "updated",
}


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    async with test_server(tmp_path / "data", ProcessorRegistry.builtin()) as running:
        yield running


@pytest.fixture(scope="module")
def doc() -> GeneratedDoc:
    return invoice(0)


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory, doc: GeneratedDoc) -> bytes:
    return write_pdf(tmp_path_factory.mktemp("api") / "invoice.pdf", [doc]).read_bytes()


async def create(
    server: TestServer,
    schema: dict[str, Any] | None = None,
    team: str = "alpha",
    name: str = "Invoices",
) -> str:
    response = await server.client.post(
        ES,
        json={"name": name, "schema_json": schema or INVOICE_SCHEMA},
        headers=server.headers(team),
    )
    assert response.status_code == 200, response.text
    return str(response.json()["schema_id"])


async def pipeline(server: TestServer, settings: dict[str, Any]) -> Any:
    steps = [{"type": "convert", "settings": {}}, {"type": "extract", "settings": settings}]
    return await server.client.post(
        "/api/v1/pipelines", json={"steps": steps}, headers=server.headers()
    )


async def run_to_end(server: TestServer, pipeline_id: str, pdf: bytes) -> dict[str, Any]:
    execution, result = await run_to_completion(server, pipeline_id, "invoice.pdf", pdf)
    steps = await server.runtime.ledger.executions.steps(execution["execution_id"])
    return {
        "execution": execution,
        "result": result,
        "data": json_of(result),
        "settings": steps[1].settings,
    }


def json_of(result: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(result["extraction_schema_json"])
    return data


def message(response: Any) -> str:
    assert response.status_code == 422, response.text
    return str(response.json()["detail"][0]["msg"])


async def test_create_get_and_list_answer_the_schema_object(server: TestServer) -> None:
    h = server.headers()
    created = await server.client.post(
        ES,
        json={"name": "Invoices", "schema_json": INVOICE_SCHEMA, "description": "v1"},
        headers=h,
    )
    body = created.json()
    got = (await server.client.get(f"{ES}/{body['schema_id']}", headers=h)).json()
    listed = (await server.client.get(ES, headers=h)).json()

    assert created.status_code == 200, created.text
    assert set(body) == SCHEMA_KEYS
    assert re.fullmatch(r"sch_[0-9A-Za-z]{12,}", body["schema_id"])
    assert isinstance(body["id"], int)
    assert (body["name"], body["description"], body["version"], body["archived"]) == (
        "Invoices",
        "v1",
        1,
        False,
    )
    assert body["schema_json"] == INVOICE_SCHEMA
    assert list(body["schema_json"]["properties"]) == list(INVOICE_SCHEMA["properties"])
    assert body["version_history"] == [
        {"version": 1, "created": body["created"], "description": "v1"}
    ]
    assert body["created"].endswith("Z") and body["updated"] == body["created"]
    assert got == body
    assert listed == {"schemas": [body], "total": 1}


async def test_invalid_schemas_are_422_with_a_clear_message(server: TestServer) -> None:
    h = server.headers()

    async def post(body: dict[str, Any]) -> Any:
        return await server.client.post(ES, json=body, headers=h)

    no_properties = await post({"name": "x", "schema_json": {"type": "object"}})
    empty = await post({"name": "x", "schema_json": {"properties": {}}})
    bad_type = await post({"name": "x", "schema_json": {"properties": {"a": {"type": 5}}}})
    not_an_object = await post({"name": "x", "schema_json": ["a"]})
    blank_name = await post({"name": "   ", "schema_json": TOTALS})
    long_name = await post({"name": "n" * 201, "schema_json": TOTALS})

    assert "schema_json must be a JSON schema object with a 'properties' object" in message(
        no_properties
    )
    assert "'properties' object" in message(empty)
    assert "schema_json is not a valid JSON schema at properties/a/type" in message(bad_type)
    assert not_an_object.status_code == 422
    assert not_an_object.json()["detail"][0]["loc"] == ["body", "schema_json"]
    assert message(blank_name) == "name must not be empty."
    assert long_name.status_code == 422
    assert long_name.json()["detail"][0]["loc"] == ["body", "name"]


async def test_update_edits_in_place_or_adds_a_version(server: TestServer) -> None:
    h = server.headers()
    schema_id = await create(server)
    url = f"{ES}/{schema_id}"

    renamed = (await server.client.put(url, json={"name": "Bills"}, headers=h)).json()
    changed = (
        await server.client.put(
            url, json={"schema_json": TOTALS, "description": "totals only"}, headers=h
        )
    ).json()
    same = (await server.client.put(url, json={"schema_json": TOTALS}, headers=h)).json()
    forced = (
        await server.client.put(
            url, json={"schema_json": TOTALS, "create_new_version": True}, headers=h
        )
    ).json()
    cleared = (await server.client.put(url, json={"description": None}, headers=h)).json()
    no_json = await server.client.put(url, json={"create_new_version": True}, headers=h)
    invalid = await server.client.put(url, json={"schema_json": {"type": "object"}}, headers=h)

    assert (renamed["name"], renamed["version"], renamed["schema_json"]) == (
        "Bills",
        1,
        INVOICE_SCHEMA,
    )
    assert (changed["version"], changed["schema_json"], changed["description"]) == (
        2,
        TOTALS,
        "totals only",
    )
    assert same["version"] == 2  # the same JSON again is no new version…
    assert forced["version"] == 3  # …unless asked for
    assert [v["version"] for v in forced["version_history"]] == [3, 2, 1]
    assert [v["description"] for v in forced["version_history"]] == [
        "totals only",
        "totals only",
        None,
    ]
    assert (cleared["description"], cleared["version"]) == (None, 3)
    assert "create_new_version needs the schema_json" in message(no_json)
    assert "'properties'" in message(invalid)


async def test_delete_archives_and_returns_the_schema(server: TestServer) -> None:
    h = server.headers()
    schema_id = await create(server)
    url = f"{ES}/{schema_id}"

    deleted = await server.client.delete(url, headers=h)
    listed = (await server.client.get(ES, headers=h)).json()
    everything = (await server.client.get(f"{ES}?include_archived=true", headers=h)).json()
    still_there = await server.client.get(url, headers=h)
    new_json = await server.client.put(url, json={"schema_json": TOTALS}, headers=h)
    revived = await server.client.put(
        url, json={"schema_json": TOTALS, "archived": False}, headers=h
    )

    assert deleted.status_code == 200 and deleted.json()["archived"] is True
    assert deleted.json()["schema_id"] == schema_id
    assert listed == {"schemas": [], "total": 0}
    assert [s["schema_id"] for s in everything["schemas"]] == [schema_id]
    assert still_there.status_code == 200 and still_there.json()["archived"] is True
    assert new_json.status_code == 400 and "archived" in new_json.json()["detail"]
    assert (revived.json()["archived"], revived.json()["version"]) == (False, 2)


async def test_list_is_newest_first_and_paginated(server: TestServer) -> None:
    h = server.headers()
    first = await create(server, name="First")
    second = await create(server, name="Second")
    await create(server, team="beta")
    await server.client.put(f"{ES}/{first}", json={"name": "First again"}, headers=h)

    body = (await server.client.get(ES, headers=h)).json()
    page = (await server.client.get(f"{ES}?limit=1&offset=1", headers=h)).json()
    bad = await server.client.get(f"{ES}?limit=0", headers=h)

    assert [s["schema_id"] for s in body["schemas"]] == [first, second]
    assert (body["total"], page["total"]) == (2, 2)
    assert [s["schema_id"] for s in page["schemas"]] == [second]
    assert bad.status_code == 422


async def test_other_teams_schemas_are_not_found(server: TestServer) -> None:
    schema_id = await create(server)
    h = server.headers("beta")
    url = f"{ES}/{schema_id}"
    responses = [
        await server.client.get(url, headers=h),
        await server.client.put(url, json={"name": "mine now"}, headers=h),
        await server.client.put(url, json={"schema_json": TOTALS}, headers=h),
        await server.client.delete(url, headers=h),
    ]

    assert [r.status_code for r in responses] == [404] * 4
    assert responses[0].json() == {"detail": f"Extraction schema {schema_id} not found"}
    assert (await server.client.get(ES, headers=h)).json() == {"schemas": [], "total": 0}
    mine = (await server.client.get(url, headers=server.headers())).json()
    assert (mine["name"], mine["version"], mine["archived"]) == ("Invoices", 1, False)


async def test_extract_steps_must_reference_a_usable_schema(server: TestServer) -> None:
    h = server.headers()
    others = await create(server, team="beta")
    mine = await create(server)

    unknown = await pipeline(server, {"schema_id": "sch_doesNotExist"})
    foreign = await pipeline(server, {"schema_id": others})
    both = await pipeline(server, {"schema_id": mine, "page_schema": TOTALS})
    pinned_missing = await pipeline(server, {"schema_id": mine, "schema_version": 4})
    reserved = await pipeline(server, {"page_schema": TOTALS, "_schema": {"id": mine}})
    created = await pipeline(server, {"schema_id": mine})
    pipeline_id = created.json()["pipeline_id"]
    update = await server.client.put(
        f"/api/v1/pipelines/{pipeline_id}",
        json={
            "steps": [{"type": "convert"}, {"type": "extract", "settings": {"schema_id": others}}]
        },
        headers=h,
    )
    await server.client.delete(f"{ES}/{mine}", headers=h)
    publish = await server.client.post(
        f"/api/v1/pipelines/{pipeline_id}/versions", json={}, headers=h
    )
    run = await server.client.post(
        f"/api/v1/pipelines/{pipeline_id}/run", files={"file": ("a.pdf", b"%PDF-1.4")}, headers=h
    )

    assert message(unknown) == "Step 1 (extract): extraction schema 'sch_doesNotExist' not found."
    assert f"extraction schema {others!r} not found" in message(foreign)
    assert f"extraction schema {others!r} not found" in message(update)
    assert "either page_schema or schema_id" in message(both)
    assert f"extraction schema {mine} has no version 4" in message(pinned_missing)
    assert "'_schema' is reserved" in message(reserved)
    assert created.status_code == 200, created.text
    assert created.json()["steps"][1]["settings"] == {"schema_id": mine}
    assert f"extraction schema {mine} is archived" in message(publish)
    assert f"extraction schema {mine} is archived" in message(run)


async def test_convert_then_extract_with_a_saved_schema(
    server: TestServer, doc: GeneratedDoc, pdf: bytes
) -> None:
    h = server.headers()
    schema_id = await create(server)
    current = (await pipeline(server, {"schema_id": schema_id})).json()["pipeline_id"]
    pinned = (await pipeline(server, {"schema_id": schema_id, "schema_version": 1})).json()[
        "pipeline_id"
    ]

    on_one = await run_to_end(server, current, pdf)
    changed = await server.client.put(
        f"{ES}/{schema_id}", json={"schema_json": TOTALS, "create_new_version": True}, headers=h
    )
    on_two = await run_to_end(server, current, pdf)
    still_one = await run_to_end(server, pinned, pdf)

    # The schema is frozen into the step: page_schema plus where it came from.
    assert on_one["settings"]["_schema"] == {"id": schema_id, "version": 1}
    assert on_one["settings"]["page_schema"] == INVOICE_SCHEMA
    assert "schema_id" not in on_one["settings"]
    assert on_one["result"]["metadata"]["extraction_schema"] == {"id": schema_id, "version": 1}
    assert on_one["data"]["invoice_number"] == doc.expected["invoice_number"]
    assert on_one["data"]["total"] == doc.expected["total"]
    # The execution's config_snapshot keeps the steps as written.
    assert on_one["execution"]["config_snapshot"]["steps"][1]["settings"] == {
        "schema_id": schema_id
    }
    # A new version changes what new runs use; pinned pipelines keep theirs.
    assert changed.json()["version"] == 2
    assert on_two["settings"]["_schema"] == {"id": schema_id, "version": 2}
    assert on_two["data"]["total"] == doc.expected["total"]
    assert "invoice_number" not in on_two["data"]
    assert still_one["settings"]["_schema"] == {"id": schema_id, "version": 1}
    assert still_one["data"]["invoice_number"] == doc.expected["invoice_number"]
    assert "schema_version" not in still_one["settings"]
    # The earlier run keeps what it ran with.
    earlier = await server.runtime.ledger.executions.steps(on_one["execution"]["execution_id"])
    assert earlier[1].settings["_schema"]["version"] == 1


async def test_the_openapi_document_lists_the_schema_endpoints(server: TestServer) -> None:
    paths = (await server.client.get("/openapi.json")).json()["paths"]

    assert set(paths[ES]) == {"get", "post"}
    assert set(paths[f"{ES}/{{schema_id}}"]) == {"get", "put", "delete"}
    body = paths[ES]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("CreateExtractionSchemaRequest")
    models = (await server.client.get("/openapi.json")).json()["components"]["schemas"]
    assert "schema_json" in models["CreateExtractionSchemaRequest"]["required"]
    assert "schema_json" in models["UpdateExtractionSchemaRequest"]["properties"]
    assert "schema_json" in models["ExtractionSchemaItem"]["required"]
