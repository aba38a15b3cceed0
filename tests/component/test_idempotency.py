"""Idempotent submission through the API: an ``Idempotency-Key`` on a pipeline run."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.component.test_executions_api import make_pipeline, run, wait_done
from tests.support.app import TestServer, test_server
from tests.support.processors import test_registry


def keyed(server: TestServer, key: str, team: str = "alpha") -> dict[str, str]:
    return {**server.headers(team), "Idempotency-Key": key}


async def run_keyed(
    server: TestServer,
    pipeline_id: str,
    key: str,
    data: dict[str, str] | None = None,
    content: bytes = b"%PDF-1.4 test",
    team: str = "alpha",
) -> object:
    return await server.client.post(
        f"/api/v1/pipelines/{pipeline_id}/run",
        files={"file": ("report.pdf", content, "application/pdf")},
        data=data or {},
        headers=keyed(server, key, team),
    )


async def executions_of(server: TestServer, pipeline_id: str) -> list[str]:
    listed = await server.client.get(
        f"/api/v1/pipelines/{pipeline_id}/executions", headers=server.headers()
    )
    return [e["execution_id"] for e in listed.json()["executions"]]


async def test_the_same_key_and_request_give_the_same_execution(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server)
    first = await run_keyed(server, pipeline_id, "order-42", {"page_range": "0"})
    assert first.status_code == 200, first.text  # type: ignore[attr-defined]
    assert "Idempotent-Replayed" not in first.headers  # type: ignore[attr-defined]
    execution_id = first.json()["execution_id"]  # type: ignore[attr-defined]
    await wait_done(server, execution_id)

    again = await run_keyed(server, pipeline_id, "order-42", {"page_range": "0"})

    assert again.status_code == 200  # type: ignore[attr-defined]
    assert again.headers["Idempotent-Replayed"] == "true"  # type: ignore[attr-defined]
    assert again.json()["execution_id"] == execution_id  # type: ignore[attr-defined]
    assert again.json()["status"] == "completed"  # type: ignore[attr-defined]
    assert await executions_of(server, pipeline_id) == [execution_id]


async def test_the_same_key_with_another_request_is_409(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server)
    first = await run_keyed(server, pipeline_id, "k1")
    execution_id = first.json()["execution_id"]  # type: ignore[attr-defined]
    await wait_done(server, execution_id)
    stored = await server.runtime.ledger.storage.used(await team_id(server))

    other_file = await run_keyed(server, pipeline_id, "k1", content=b"%PDF-1.4 other")
    other_field = await run_keyed(server, pipeline_id, "k1", {"output_format": "html"})
    other_pipeline = await run_keyed(server, await make_pipeline(server), "k1")

    for response in (other_file, other_field, other_pipeline):
        assert response.status_code == 409, response.text  # type: ignore[attr-defined]
        assert "different request" in response.json()["detail"]  # type: ignore[attr-defined]
    assert await executions_of(server, pipeline_id) == [execution_id]
    used = await server.runtime.ledger.storage.used(await team_id(server))
    assert used == stored  # the refused uploads were not kept


async def team_id(server: TestServer) -> str:
    team = await server.runtime.ledger.tenancy.team_by_name("alpha")
    assert team is not None
    return team.id


async def test_keys_are_per_team_and_without_a_key_nothing_changes(server: TestServer) -> None:
    alpha = await make_pipeline(server)
    beta = await make_pipeline(server, team="beta")
    a = await run_keyed(server, alpha, "shared")
    b = await run_keyed(server, beta, "shared", team="beta")
    assert b.status_code == 200  # type: ignore[attr-defined]
    assert a.json()["execution_id"] != b.json()["execution_id"]  # type: ignore[attr-defined]

    plain = [await run(server, alpha), await run(server, alpha)]
    assert len({r.json()["execution_id"] for r in plain}) == 2


async def test_concurrent_duplicates_create_one_execution(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server)
    responses = await asyncio.gather(*(run_keyed(server, pipeline_id, "burst") for _ in range(8)))

    ids = {r.json()["execution_id"] for r in responses}  # type: ignore[attr-defined]
    assert len(ids) == 1
    assert sum("Idempotent-Replayed" in r.headers for r in responses) == 7  # type: ignore[attr-defined]
    assert await executions_of(server, pipeline_id) == list(ids)


async def test_a_malformed_key_is_422_before_anything_runs(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server)
    for bad in ("has space", "x" * 256, ""):
        response = await run_keyed(server, pipeline_id, bad)
        assert response.status_code == 422, (bad, response.text)  # type: ignore[attr-defined]
    assert await executions_of(server, pipeline_id) == []


async def test_an_expired_key_is_free_again(tmp_path: Path) -> None:
    async with test_server(
        tmp_path / "data", test_registry(), idempotency_key_ttl_seconds=0.2
    ) as server:
        pipeline_id = await make_pipeline(server)
        first = await run_keyed(server, pipeline_id, "short-lived")
        await asyncio.sleep(0.3)
        later = await run_keyed(server, pipeline_id, "short-lived", content=b"%PDF-1.4 new")

        assert later.status_code == 200, later.text  # type: ignore[attr-defined]
        assert "Idempotent-Replayed" not in later.headers  # type: ignore[attr-defined]
        first_id = first.json()["execution_id"]  # type: ignore[attr-defined]
        assert later.json()["execution_id"] != first_id  # type: ignore[attr-defined]
