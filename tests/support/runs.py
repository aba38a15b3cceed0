"""Running a saved pipeline through the ASGI app until its execution ends."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support.app import TestServer

TERMINAL = {"completed", "completed_with_errors", "failed", "cancelled"}


async def run_to_completion(
    server: TestServer, pipeline_id: str, filename: str, pdf: bytes
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run ``pipeline_id`` on ``pdf``; the execution, which must complete, and the result of
    its last step."""
    started = await server.client.post(
        f"/api/v1/pipelines/{pipeline_id}/run",
        files={"file": (filename, pdf, "application/pdf")},
        headers=server.headers(),
    )
    assert started.status_code == 200, started.text
    execution_id = started.json()["execution_id"]
    for _ in range(1000):
        body: dict[str, Any] = (
            await server.client.get(
                f"/api/v1/pipelines/executions/{execution_id}", headers=server.headers()
            )
        ).json()
        if body["status"] in TERMINAL:
            assert body["status"] == "completed", body
            result = await server.client.get(
                body["steps"][-1]["result_url"], headers=server.headers()
            )
            return body, result.json()
        await asyncio.sleep(0.02)
    raise AssertionError(f"{execution_id} did not finish")
