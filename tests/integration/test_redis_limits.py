"""Limits in Redis beyond the contract: a crashed holder's mutex lapses with its lease, and a
Redis outage degrades limits to per-process ones instead of failing or stalling requests."""

from __future__ import annotations

import asyncio
from pathlib import Path

import redis.asyncio as aioredis

from pagemill.adapters.memory import MemoryLimitStore
from pagemill.adapters.redis import RedisLimitStore
from pagemill.domain.limits import TokenBucket
from tests.support.redis import private_redis_server, redis_limit_store, redis_test_url

BUCKET = TokenBucket(rate_per_second=0.001, burst=2)


async def test_a_crashed_holders_mutex_lapses_with_its_lease() -> None:
    async with redis_limit_store(timeout_seconds=5.0) as limits:
        url = redis_test_url()
        assert url is not None
        admin = aioredis.Redis.from_url(url)
        try:
            # A holder that took the mutex and died: nobody will ever release it.
            await admin.set(limits.redis_key("mutex", "m"), "dead-holder", px=300)
            async with limits.hold("m", lease_seconds=10, wait_seconds=0.05) as early:
                assert early is False
            async with limits.hold("m", lease_seconds=10, wait_seconds=5) as later:
                assert later is True
        finally:
            await admin.aclose()


async def test_an_outage_falls_back_to_process_limits_and_recovers(tmp_path: Path) -> None:
    with private_redis_server(tmp_path / "redis") as server:
        limits = RedisLimitStore(
            server.url, MemoryLimitStore(), timeout_seconds=0.3, fallback_seconds=0.5
        )
        try:
            assert await limits.take("k", BUCKET) == 0.0
            assert not limits.degraded

            server.kill()
            during = [await limits.take("k", BUCKET) for _ in range(3)]
            async with limits.hold("m", lease_seconds=5, wait_seconds=1) as held:
                assert held is True
            assert limits.degraded
            # The process's own buckets answer meanwhile: still limited, never an error.
            assert during == [0.0, 0.0, during[2]] and during[2] > 0

            server.start()  # empty: a killed server without persistence forgets its keys
            await asyncio.sleep(0.6)  # past the fallback period
            # Redis's new, full bucket answers: the process's own one is empty.
            assert await limits.take("k", BUCKET) == 0.0
            assert not limits.degraded
        finally:
            await limits.close()
