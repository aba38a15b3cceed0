"""The event stream on Redis: the same history as on the embedded default, resumed on another
API instance sharing Redis and the ledger, and ended from the ledger when Redis dies.

Each test starts a private ``redis-server`` (never the shared one).
"""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path

from tests.component.test_event_stream import HISTORY
from tests.component.test_executions_api import make_pipeline, wait_done
from tests.support.app import TestServer, test_server
from tests.support.events import Sse, id_key, parse, read_stream, stream_blocks, summary
from tests.support.processors import test_registry
from tests.support.redis import private_redis_server
from tests.support.streaming import streaming_client

SLOW = [{"type": "convert", "settings": {"sleep": 0.8}}, {"type": "segment", "settings": {}}]


async def start(server: TestServer, steps: list[dict[str, object]]) -> str:
    pipeline_id = await make_pipeline(server, steps)
    response = await server.client.post(
        f"/api/v1/pipelines/{pipeline_id}/run",
        files={"file": ("a.pdf", f"%PDF-1.4 {uuid.uuid4()}".encode(), "application/pdf")},
        headers=server.headers(),
    )
    assert response.status_code == 200, response.text
    return str(response.json()["execution_id"])


async def test_a_stream_broken_on_one_instance_resumes_on_another(tmp_path: Path) -> None:
    async with contextlib.AsyncExitStack() as stack:
        redis = stack.enter_context(private_redis_server(tmp_path / "redis"))
        first = await stack.enter_async_context(
            test_server(tmp_path / "data", test_registry(), live_url=redis.url)
        )
        # The second API instance runs no workers: it only reads the ledger and Redis.
        second = await stack.enter_async_context(
            test_server(tmp_path / "data", test_registry(), live_url=redis.url, workers=0)
        )
        execution_id = await start(first, SLOW)

        seen: list[Sse] = []
        async with streaming_client(first.app) as client:  # type: ignore[arg-type]
            async for block in stream_blocks(client, execution_id, first.headers()):
                seen += parse(block + "\n\n")[0]
                if len(seen) == 2:  # dispatched, started: the connection breaks mid-step
                    break
        async with streaming_client(second.app) as client:  # type: ignore[arg-type]
            resumed: list[Sse] = []
            headers = {**second.headers(), "Last-Event-ID": str(seen[-1].id)}
            async for block in stream_blocks(client, execution_id, headers):
                resumed += parse(block + "\n\n")[0]

        assert summary(seen + resumed) == HISTORY
        ids = [id_key(e.id) for e in seen + resumed]
        assert ids == sorted(set(ids))
        # Both instances tell the whole history alike, and resume alike at every event.
        everything, _ = await read_stream(first.client, execution_id, first.headers())
        assert everything == seen + resumed
        for cut, event in enumerate(everything[:-1]):
            rest, _ = await read_stream(second.client, execution_id, second.headers(), event.id)
            assert everything[: cut + 1] + rest == everything
        refused = await second.client.get(
            f"/api/v1/pipelines/executions/{execution_id}/events", headers=second.headers("beta")
        )
        assert refused.status_code == 404


async def test_the_stream_ends_from_the_ledger_when_redis_dies(tmp_path: Path) -> None:
    with private_redis_server(tmp_path / "redis") as redis:
        async with test_server(tmp_path / "data", test_registry(), live_url=redis.url) as server:
            execution_id = await start(server, SLOW)
            seen: list[Sse] = []
            async with streaming_client(server.app) as client:  # type: ignore[arg-type]
                async for block in stream_blocks(client, execution_id, server.headers()):
                    seen += parse(block + "\n\n")[0]
                    if len(seen) == 2:
                        redis.kill()  # mid-step: the log is gone with Redis
            await wait_done(server, execution_id)
    assert summary(seen) == HISTORY, "the rest was derived from the ledger"
    ids = [id_key(e.id) for e in seen]
    assert ids == sorted(set(ids))
