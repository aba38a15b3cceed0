"""A Redis outage mid-execution: reads fall back to the ledger at once, work goes on, and the
live store serves again after Redis comes back. Plus the Lua ``seq`` guard under writers racing
from several clients (as API and worker processes do).

Each test starts a private ``redis-server`` (never the shared one); the outage tests run an
in-process server whose live store points at it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from pagemill.adapters.redis import RedisLiveStore
from pagemill.domain.errors import ServiceUnavailable
from pagemill.domain.statuses import StepStatus
from tests.contract.test_live_store import snapshot
from tests.support.app import TestServer, test_server
from tests.support.postgres import postgres_database_async
from tests.support.processors import test_registry
from tests.support.redis import private_redis_server

TERMINAL = {"completed", "completed_with_errors", "failed", "cancelled"}
STEP_SECONDS = 1.5  # the convert step sleeps this long: time to break Redis under it
MAX_GET_SECONDS = 1.0  # a GET must not wait for Redis longer than its fail-fast timeouts


async def start_slow_run(server: TestServer) -> str:
    pipeline = await server.client.post(
        "/api/v1/pipelines",
        json={"steps": [{"type": "convert", "settings": {"sleep": STEP_SECONDS}}]},
        headers=server.headers(),
    )
    assert pipeline.status_code == 200, pipeline.text
    started = await server.client.post(
        f"/api/v1/pipelines/{pipeline.json()['pipeline_id']}/run",
        # A new document each time: the executor cache would answer a repeat at once.
        files={"file": ("report.pdf", f"%PDF-1.4 {uuid.uuid4()}".encode(), "application/pdf")},
        headers=server.headers(),
    )
    assert started.status_code == 200, started.text
    return str(started.json()["execution_id"])


async def timed_get(server: TestServer, execution_id: str) -> tuple[httpx.Response, float]:
    began = time.perf_counter()
    response = await server.client.get(
        f"/api/v1/pipelines/executions/{execution_id}", headers=server.headers()
    )
    elapsed = time.perf_counter() - began
    assert response.status_code == 200, response.text
    return response, elapsed


async def wait_live_and_running(server: TestServer, execution_id: str) -> httpx.Response:
    """Poll until the step runs and the answer comes from the live store."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        response, _ = await timed_get(server, execution_id)
        running = response.json()["steps"][0]["status"] == "running"
        if running and response.headers["X-Pagemill-Source"] == "live":
            return response
        await asyncio.sleep(0.02)
    raise AssertionError(f"{execution_id} was never served live while running")


async def poll_until_done(
    server: TestServer, execution_id: str
) -> tuple[dict[str, Any], list[float], set[str]]:
    """GET until terminal; the latency of each GET and the sources of in-flight answers."""
    latencies: list[float] = []
    in_flight_sources: set[str] = set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        response, elapsed = await timed_get(server, execution_id)
        latencies.append(elapsed)
        body: dict[str, Any] = response.json()
        if body["status"] in TERMINAL:
            return body, latencies, in_flight_sources
        in_flight_sources.add(response.headers["X-Pagemill-Source"])
        await asyncio.sleep(0.05)
    raise AssertionError(f"{execution_id} did not finish")


async def assert_served_live_again(server: TestServer) -> None:
    execution_id = await start_slow_run(server)
    await wait_live_and_running(server, execution_id)
    body, _, _ = await poll_until_done(server, execution_id)
    assert body["status"] == "completed"


def summary(latencies: list[float]) -> str:
    return f"{len(latencies)} GETs, max {max(latencies) * 1000:.0f} ms, " + ", ".join(
        f"{value * 1000:.0f}" for value in latencies
    )


@pytest.mark.parametrize("ledger", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_a_killed_redis_falls_back_to_the_ledger_and_recovers(
    tmp_path: Path, ledger: str
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        ledger_url: dict[str, str] = {}
        if ledger == "postgres":  # the scale-out shape: PostgreSQL answers while Redis is down
            ledger_url["database_url"] = await stack.enter_async_context(postgres_database_async())
        redis = stack.enter_context(private_redis_server(tmp_path / "redis"))
        server = await stack.enter_async_context(
            test_server(tmp_path / "data", test_registry(), live_url=redis.url, **ledger_url)
        )
        execution_id = await start_slow_run(server)
        await wait_live_and_running(server, execution_id)

        redis.kill()  # mid-step: connections drop, every live entry is gone
        body, latencies, sources = await poll_until_done(server, execution_id)
        print(f"\nRedis killed, {summary(latencies)} ms")
        assert sources == {"ledger"}
        assert max(latencies) < MAX_GET_SECONDS, summary(latencies)
        assert body["status"] == "completed"
        assert body["steps"][0]["status"] == "completed"

        redis.start()  # same port, empty
        await assert_served_live_again(server)


async def test_a_hung_redis_costs_a_get_at_most_the_socket_timeout(tmp_path: Path) -> None:
    """SIGSTOP: the port accepts connections but never answers (the worst kind of outage)."""
    with private_redis_server(tmp_path / "redis") as redis:
        async with test_server(tmp_path / "data", test_registry(), live_url=redis.url) as server:
            execution_id = await start_slow_run(server)
            await wait_live_and_running(server, execution_id)

            redis.freeze()
            try:
                body, latencies, sources = await poll_until_done(server, execution_id)
            finally:
                redis.thaw()
            print(f"\nRedis frozen, {summary(latencies)} ms")
            assert sources <= {"ledger"}
            assert max(latencies) < MAX_GET_SECONDS, summary(latencies)
            assert body["status"] == "completed"

            await assert_served_live_again(server)


async def test_the_lua_guard_keeps_the_highest_seq_across_racing_clients(tmp_path: Path) -> None:
    with private_redis_server(tmp_path / "redis") as redis:
        # Four processes' worth of pools; a roomy deadline: this is about order, not latency
        # (a cold burst of 400 writes on fresh connections can take longer than 0.5 s).
        stores = [RedisLiveStore(redis.url, timeout_seconds=5.0) for _ in range(4)]
        admin = aioredis.Redis.from_url(redis.url)
        try:
            seqs = list(range(1, 401))
            random.Random(11).shuffle(seqs)
            top = max(seqs)
            await asyncio.gather(
                *(
                    stores[i % len(stores)].put(
                        snapshot(seq, StepStatus.COMPLETED if seq == top else StepStatus.RUNNING)
                    )
                    for i, seq in enumerate(seqs)
                )
            )
            got = await stores[0].get("pex_a")
            assert got is not None
            assert (got.execution.seq, got.steps[0].status) == (top, StepStatus.COMPLETED)
            assert int(await admin.hget(stores[0].keys("pex_a")[0], "seq")) == top

            await admin.script_flush()  # as after a Redis restart: EVALSHA gets NOSCRIPT
            await stores[1].put(snapshot(top - 1))
            await stores[2].put(snapshot(top + 1))
            got = await stores[3].get("pex_a")
            assert got is not None and got.execution.seq == top + 1
        finally:
            await admin.aclose()
            for store in stores:
                await store.close()


async def test_after_a_restart_one_failed_write_clears_every_dead_pooled_connection(
    tmp_path: Path,
) -> None:
    with private_redis_server(tmp_path / "redis") as redis:
        store = RedisLiveStore(redis.url, timeout_seconds=2.0)
        try:
            # Eight commands at once: eight pooled connections, idle afterwards.
            await asyncio.gather(*(store.put(snapshot(seq)) for seq in range(1, 9)))
            redis.kill()
            redis.start()  # same port, empty: every pooled socket is dead
            # The first write after the restart meets a dead socket and fails ...
            with contextlib.suppress(ServiceUnavailable):
                await store.put(snapshot(10))
            # ... and takes the other dead ones with it: eight writes at once, each on its own
            # pooled connection, all succeed (without the clean-up seven would fail).
            outcomes = await asyncio.gather(
                *(store.put(snapshot(seq)) for seq in range(11, 19)), return_exceptions=True
            )
            assert [o for o in outcomes if o is not None] == []
            got = await store.get("pex_a")
            assert got is not None and got.execution.seq == 18
        finally:
            await store.close()
