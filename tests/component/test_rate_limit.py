"""The per-key rate limit: a token bucket per API key (or session), 429 with Retry-After."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pagemill.adapters.memory import MemoryLimitStore
from pagemill.domain.errors import RateLimited
from pagemill.services.ratelimit import RateLimiter
from tests.component.test_teams_api import add_member, login
from tests.support.app import TestServer, test_server
from tests.support.processors import test_registry


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    async with test_server(
        tmp_path / "data",
        test_registry(),
        rate_limit_per_minute=6,
        rate_limit_burst=3,
        session_cookie_secure=False,
    ) as running:
        yield running


async def test_a_key_over_its_budget_gets_429_with_retry_after(server: TestServer) -> None:
    statuses = [
        (await server.client.get("/api/v1/pipelines", headers=server.headers())).status_code
        for _ in range(4)
    ]

    refused = await server.client.get("/api/v1/pipelines", headers=server.headers())

    assert statuses == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert set(refused.json()) == {"detail"}
    assert "6 requests per minute" in refused.json()["detail"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 10


async def test_keys_have_their_own_buckets_and_health_is_never_limited(
    server: TestServer,
) -> None:
    for _ in range(4):
        await server.client.get("/api/v1/pipelines", headers=server.headers("alpha"))

    beta = await server.client.get("/api/v1/pipelines", headers=server.headers("beta"))

    assert beta.status_code == 200
    for path in ("/healthz", "/readyz", "/metrics") * 3:
        assert (await server.client.get(path)).status_code == 200, path


async def test_sessions_are_limited_per_user(server: TestServer) -> None:
    await add_member(server, "olga@example.com")
    await login(server, "olga@example.com")

    statuses = [(await server.client.get("/api/v1/pipelines")).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]


async def test_unauthenticated_requests_do_not_use_a_bucket(server: TestServer) -> None:
    for _ in range(5):
        response = await server.client.get("/api/v1/pipelines", headers={"X-API-Key": "pm_x"})
        assert response.status_code == 401


async def test_the_bucket_refills_at_the_configured_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(MemoryLimitStore(monotonic=lambda: now[0]), per_minute=60, burst=2)

    await limiter.hit("k")
    await limiter.hit("k")
    with pytest.raises(RateLimited) as refused:
        await limiter.hit("k")
    assert refused.value.retry_after == 1
    now[0] += 1.0
    await limiter.hit("k")
    with pytest.raises(RateLimited):
        await limiter.hit("k")
    now[0] += 60.0  # never more than the burst, however long the pause
    for _ in range(2):
        await limiter.hit("k")
    with pytest.raises(RateLimited):
        await limiter.hit("k")


async def test_the_burst_defaults_to_the_rate_and_zero_disables() -> None:
    now = [0.0]
    limiter = RateLimiter(MemoryLimitStore(monotonic=lambda: now[0]), per_minute=400)
    for _ in range(400):
        await limiter.hit("k")
    with pytest.raises(RateLimited):
        await limiter.hit("k")

    off = RateLimiter(MemoryLimitStore(), per_minute=0)
    assert not off.enabled
    for _ in range(1000):
        await off.hit("k")
