"""The per-team storage quota: one team cannot fill the disk for everyone. Uploads stream under
the room the team has left and are refused (413, nothing kept) once they would not fit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.component.test_executions_api import make_pipeline, run, wait_done
from tests.component.test_files_api import request_upload
from tests.support.app import TestServer, test_server
from tests.support.processors import test_registry

QUOTA = 100_000


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    async with test_server(
        tmp_path / "data", test_registry(), team_storage_quota_bytes=QUOTA
    ) as running:
        yield running


async def usage(server: TestServer, team: str = "alpha") -> dict[str, Any]:
    response = await server.client.get("/api/v1/teams/current/usage", headers=server.headers(team))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def put_file(server: TestServer, size: int, team: str = "alpha") -> tuple[int, Any]:
    created = await request_upload(server, team=team)
    put = await server.client.put(created["upload_url"], content=b"%PDF-" + b"x" * (size - 5))
    return put.status_code, created


def blob_bytes(server: TestServer) -> int:
    root = server.settings.blob_root()
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


async def test_uploads_stop_at_the_quota_and_keep_nothing_over_it(server: TestServer) -> None:
    # The attack: one team uploads until the disk is full.
    statuses = [(await put_file(server, 30_000))[0] for _ in range(5)]

    assert statuses == [200, 200, 200, 413, 413]
    assert (await usage(server)) == {"storage_bytes": 90_000, "storage_quota_bytes": QUOTA}
    assert blob_bytes(server) == 90_000  # the refused uploads left nothing behind
    other_team = await put_file(server, 30_000, team="beta")
    assert other_team[0] == 200  # every team has its own quota


async def test_the_refusal_says_why_and_what_to_do(server: TestServer) -> None:
    await put_file(server, 90_000)
    status, created = await put_file(server, 20_000)
    response = await server.client.put(created["upload_url"], content=b"%PDF-" + b"y" * 20_000)

    assert status == 413 and response.status_code == 413
    detail = response.json()["detail"]
    assert "storage quota of 100,000 bytes" in detail
    assert "PAGEMILL_TEAM_STORAGE_QUOTA_BYTES" in detail


async def test_runs_count_their_inputs_and_results(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server)
    started = await run(server, pipeline_id, content=b"%PDF-1.4 " + b"r" * 20_000)
    assert started.status_code == 200, started.text
    await wait_done(server, started.json()["execution_id"])

    # The result and checkpoint are counted just after the completion is published (off the
    # step's path), so the count may trail the finished execution by a moment.
    for _ in range(200):
        counted = (await usage(server))["storage_bytes"]
        if counted == blob_bytes(server):
            break
        await asyncio.sleep(0.01)
    assert counted == blob_bytes(server)  # input, result and checkpoint: all of it
    too_big = await run(server, pipeline_id, content=b"%PDF-1.4 " + b"r" * (QUOTA - 20_000))
    assert too_big.status_code == 413
    assert (await usage(server))["storage_bytes"] == counted


async def test_deleting_and_replacing_files_gives_the_room_back(server: TestServer) -> None:
    status, created = await put_file(server, 60_000)
    assert status == 200
    replaced = await server.client.put(created["upload_url"], content=b"%PDF-" + b"z" * 9_995)
    assert replaced.status_code == 200
    assert (await usage(server))["storage_bytes"] == 10_000  # the new content only

    deleted = await server.client.delete(
        f"/api/v1/files/{created['file_id']}", headers=server.headers()
    )
    assert deleted.status_code == 200
    assert (await usage(server))["storage_bytes"] == 0
    assert (await put_file(server, 95_000))[0] == 200


async def test_without_a_quota_bytes_are_still_counted(tmp_path: Path) -> None:
    async with test_server(tmp_path / "d", test_registry()) as server:
        assert (await put_file(server, 250_000))[0] == 200
        assert await usage(server) == {"storage_bytes": 250_000, "storage_quota_bytes": None}
