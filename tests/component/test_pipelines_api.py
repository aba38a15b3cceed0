"""The pipeline-definition endpoints, through the ASGI app (no sockets)."""

from __future__ import annotations

import pytest

from tests.support.app import TestServer

CONVERT = [{"type": "convert", "settings": {}}]


async def create(server: TestServer, steps: list[dict[str, object]] | None = None) -> str:
    response = await server.client.post(
        "/api/v1/pipelines", json={"steps": steps or CONVERT}, headers=server.headers()
    )
    assert response.status_code == 200, response.text
    return str(response.json()["pipeline_id"])


async def test_create_returns_an_unsaved_draft(server: TestServer) -> None:
    response = await server.client.post(
        "/api/v1/pipelines", json={"steps": CONVERT}, headers=server.headers()
    )
    body = response.json()
    assert response.status_code == 200
    assert body["pipeline_id"].startswith("pl_") and len(body["pipeline_id"]) >= 15
    assert body["steps"] == CONVERT  # echoed exactly as sent
    assert (body["name"], body["is_saved"], body["archived"], body["active_version"]) == (
        None,
        False,
        False,
        0,
    )
    assert isinstance(body["id"], int) and body["created"].endswith("Z")


async def test_unknown_keys_of_a_step_are_kept(server: TestServer) -> None:
    steps = [{"type": "convert", "settings": {"paginate": True}, "pending_name": "x", "foo": 1}]
    pipeline_id = await create(server, steps)
    got = await server.client.get(f"/api/v1/pipelines/{pipeline_id}", headers=server.headers())
    assert got.json()["steps"] == steps


@pytest.mark.parametrize(
    ("steps", "fragment"),
    [
        ([{"type": "extract", "settings": {}}], "first step must be convert"),
        ([{"type": "convert"}, {"type": "convert"}], "convert may only be the first"),
        ([{"type": "nope"}], "unknown step type"),
        ([{"type": "convert"}, {"type": "extract"}], "'extract' processor is not available"),
        ([{"type": "convert", "settings": {"sleep": "x"}}], "sleep must be a number"),
    ],
)
async def test_invalid_pipelines_are_422_naming_the_problem(
    server: TestServer, steps: list[dict[str, object]], fragment: str
) -> None:
    response = await server.client.post(
        "/api/v1/pipelines", json={"steps": steps}, headers=server.headers()
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, list) and {"loc", "msg", "type"} <= set(detail[0])
    assert fragment in detail[0]["msg"]


async def test_empty_steps_is_a_fastapi_validation_error(server: TestServer) -> None:
    response = await server.client.post(
        "/api/v1/pipelines", json={"steps": []}, headers=server.headers()
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "steps"]


async def test_auth_is_required_and_checked(server: TestServer) -> None:
    missing = await server.client.get("/api/v1/pipelines")
    wrong = await server.client.get("/api/v1/pipelines", headers={"X-API-Key": "pm_nope"})
    key = server.keys["alpha"]
    forged_key = key[:-1] + ("y" if key.endswith("x") else "x")  # never the key itself
    forged = await server.client.get("/api/v1/pipelines", headers={"X-API-Key": forged_key})
    assert [r.status_code for r in (missing, wrong, forged)] == [401, 401, 401]
    assert "detail" in missing.json()


async def test_lifecycle_save_publish_discard_archive(server: TestServer) -> None:
    h = server.headers()
    pipeline_id = await create(server)
    base = f"/api/v1/pipelines/{pipeline_id}"
    saved = (await server.client.put(f"{base}/save", json={"name": ""}, headers=h)).json()
    assert saved["is_saved"] is True and saved["name"]  # a name is generated
    named = (await server.client.put(f"{base}/save", json={"name": "Invoices"}, headers=h)).json()
    assert named["name"] == "Invoices"

    no_version = await server.client.post(f"{base}/discard", headers=h)
    assert no_version.status_code == 400

    v1 = (await server.client.post(f"{base}/versions", json={}, headers=h)).json()
    assert v1["version"] == 1
    paginate = [{"type": "convert", "settings": {"paginate": True}}]
    updated = (await server.client.put(base, json={"steps": paginate}, headers=h)).json()
    assert updated["steps"] == paginate and updated["active_version"] == 1
    v2 = await server.client.post(f"{base}/versions", json={"description": "paginated"}, headers=h)
    assert v2.json()["version"] == 2 and v2.json()["description"] == "paginated"

    versions = (await server.client.get(f"{base}/versions", headers=h)).json()
    assert versions["total"] == 2 and [v["version"] for v in versions["versions"]] == [2, 1]

    reset = (await server.client.post(f"{base}/discard", json={"version": 1}, headers=h)).json()
    assert reset["steps"] == CONVERT and reset["active_version"] == 2
    missing = await server.client.post(f"{base}/discard", json={"version": 9}, headers=h)
    assert missing.status_code == 404

    archived = await server.client.post(f"{base}/archive", headers=h)
    assert archived.json()["archived"] is True
    listed = (await server.client.get("/api/v1/pipelines", headers=h)).json()
    assert listed["total"] == 0
    with_archived = await server.client.get(
        "/api/v1/pipelines", params={"include_archived": "true"}, headers=h
    )
    assert with_archived.json()["total"] == 1
    restored = await server.client.post(f"{base}/unarchive", headers=h)
    assert restored.json()["archived"] is False


async def test_list_filters_orders_and_pages(server: TestServer) -> None:
    h = server.headers()
    ids = [await create(server) for _ in range(3)]
    for pipeline_id in ids[:2]:
        await server.client.put(
            f"/api/v1/pipelines/{pipeline_id}/save", json={"name": ""}, headers=h
        )
    saved = (await server.client.get("/api/v1/pipelines", headers=h)).json()
    assert saved["total"] == 2
    assert [p["pipeline_id"] for p in saved["pipelines"]] == [ids[1], ids[0]]  # updated desc
    everything = await server.client.get(
        "/api/v1/pipelines", params={"saved_only": "false", "limit": 1, "offset": 1}, headers=h
    )
    assert everything.json()["total"] == 3 and len(everything.json()["pipelines"]) == 1
    too_big = await server.client.get("/api/v1/pipelines", params={"limit": 201}, headers=h)
    assert too_big.status_code == 422


async def test_rate_sums_processor_rates(server: TestServer) -> None:
    pipeline_id = await create(
        server, [{"type": "convert", "settings": {}}, {"type": "segment", "settings": {}}]
    )
    rate = await server.client.get(
        f"/api/v1/pipelines/{pipeline_id}/rate", headers=server.headers()
    )
    body = rate.json()
    assert body["rate_per_1000_pages_cents"] == 400 + 200
    assert [line["step_type"] for line in body["rate_breakdown"]["steps"]] == ["convert", "segment"]


async def test_another_teams_pipeline_is_not_found(server: TestServer) -> None:
    pipeline_id = await create(server)
    other = server.headers("beta")
    base = f"/api/v1/pipelines/{pipeline_id}"
    responses = [
        await server.client.get(base, headers=other),
        await server.client.put(base, json={"steps": CONVERT}, headers=other),
        await server.client.put(f"{base}/save", json={"name": "x"}, headers=other),
        await server.client.post(f"{base}/archive", headers=other),
        await server.client.post(f"{base}/versions", json={}, headers=other),
        await server.client.get(f"{base}/versions", headers=other),
        await server.client.post(f"{base}/discard", json={}, headers=other),
        await server.client.get(f"{base}/rate", headers=other),
        await server.client.get(f"{base}/executions", headers=other),
        await server.client.post(
            f"{base}/run", files={"file": ("a.pdf", b"%PDF-1.4")}, headers=other
        ),
    ]
    assert [r.status_code for r in responses] == [404] * len(responses)
    assert (await server.client.get("/api/v1/pipelines", headers=other)).json()["total"] == 0


async def test_empty_bodies_are_accepted_where_clients_send_none(server: TestServer) -> None:
    h = server.headers()
    pipeline_id = await create(server)
    base = f"/api/v1/pipelines/{pipeline_id}"
    published = await server.client.post(f"{base}/versions", headers=h)
    assert published.status_code == 200
    discarded = await server.client.post(f"{base}/discard", headers=h)
    assert discarded.status_code == 200
