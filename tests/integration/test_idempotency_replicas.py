"""Idempotent submission across API replicas: two app instances on one PostgreSQL ledger, the
same request with the same key sent to both at once, one execution."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.app import TestServer, test_server
from tests.support.postgres import postgres_database_async
from tests.support.processors import test_registry

pytestmark = [pytest.mark.postgres]


@contextlib.asynccontextmanager
async def two_replicas(root: Path) -> AsyncIterator[tuple[TestServer, TestServer]]:
    async with (
        postgres_database_async() as url,
        test_server(root / "a", test_registry(), database_url=url, workers=0) as a,
        test_server(root / "b", test_registry(), database_url=url, workers=0) as b,
    ):
        yield a, b


async def submit(server: TestServer, pipeline_id: str, key: str, content: bytes) -> object:
    return await server.client.post(
        f"/api/v1/pipelines/{pipeline_id}/run",
        files={"file": ("a.pdf", content, "application/pdf")},
        headers={**server.headers(), "Idempotency-Key": key},
    )


async def test_duplicates_on_two_replicas_create_one_execution(tmp_path: Path) -> None:
    async with two_replicas(tmp_path) as (a, b):
        created = await a.client.post(
            "/api/v1/pipelines", json={"steps": [{"type": "convert"}]}, headers=a.headers()
        )
        pipeline_id = created.json()["pipeline_id"]

        for round_ in range(5):  # several rounds: the race is decided differently each time
            key = f"round-{round_}"
            responses = await asyncio.gather(
                *(submit(s, pipeline_id, key, b"%PDF-1.4 same") for s in (a, b, a, b))
            )
            assert all(r.status_code == 200 for r in responses), [r.text for r in responses]  # type: ignore[attr-defined]
            ids = {r.json()["execution_id"] for r in responses}  # type: ignore[attr-defined]
            assert len(ids) == 1
            replayed = [r.headers.get("Idempotent-Replayed") for r in responses]  # type: ignore[attr-defined]
            assert replayed.count("true") == 3

        conflicting = await submit(b, pipeline_id, "round-0", b"%PDF-1.4 different")
        assert conflicting.status_code == 409  # type: ignore[attr-defined]

        listed = await b.client.get(
            f"/api/v1/pipelines/{pipeline_id}/executions", headers=b.headers()
        )
        assert listed.json()["total"] == 5
