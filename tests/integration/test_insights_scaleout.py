"""The event stream, provenance and estimates on the scale-out shape: a PostgreSQL ledger with
Procrastinate delivery and a Redis live store (a private ``redis-server``)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from tests.component.test_executions_api import make_pipeline, run, wait_done
from tests.support.app import test_server
from tests.support.events import id_key, read_stream, summary
from tests.support.postgres import postgres_database_async
from tests.support.processors import test_registry
from tests.support.redis import private_redis_server

pytestmark = pytest.mark.postgres


async def test_a_retried_run_streams_explains_and_estimates_on_postgres_and_redis(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "failed-once"
    steps = [
        {"type": "convert", "settings": {"fail_marker": str(marker)}},
        {"type": "segment", "settings": {}},
    ]
    async with contextlib.AsyncExitStack() as stack:
        database_url = await stack.enter_async_context(postgres_database_async())
        redis = stack.enter_context(private_redis_server(tmp_path / "redis"))
        server = await stack.enter_async_context(
            test_server(
                tmp_path / "data", test_registry(), live_url=redis.url, database_url=database_url
            )
        )
        pipeline_id = await make_pipeline(server, steps)
        execution_id = (await run(server, pipeline_id)).json()["execution_id"]
        await wait_done(server, execution_id)

        events, _ = await read_stream(server.client, execution_id, server.headers())
        assert summary(events) == [
            ("step.dispatched", 0),
            ("step.started", 0),
            ("step.retrying", 0),
            ("step.dispatched", 0),
            ("step.started", 0),
            ("step.completed", 0),
            ("step.dispatched", 1),
            ("step.started", 1),
            ("step.completed", 1),
            ("execution.completed", None),
        ]
        ids = [id_key(e.id) for e in events]
        assert ids == sorted(set(ids))
        rest, _ = await read_stream(server.client, execution_id, server.headers(), events[4].id)
        assert rest == events[5:]

        found = (
            await server.client.get(
                f"/api/v1/pipelines/executions/{execution_id}/provenance",
                headers=server.headers(),
            )
        ).json()
        convert = found["steps"][0]
        assert [(a["attempt"], a["outcome"]) for a in convert["attempt_log"]] == [
            (1, "retried"),
            (2, "completed"),
        ]
        assert all(a["worker"] for a in convert["attempt_log"])
        assert convert["produced_by"]["processor_version"] == "test-1"

        estimate = await server.client.post(
            f"/api/v1/pipelines/{pipeline_id}/estimate",
            json={"page_count": 10},
            headers=server.headers(),
        )
        assert estimate.status_code == 200, estimate.text
        body = estimate.json()
        assert body["cost"]["total_cost_cents"] == 6  # (400 + 200) * 10 / 1000
        assert body["duration"]["based_on_executions"] == 1
        assert body["duration"]["expected_seconds"]["p50"] >= 0
