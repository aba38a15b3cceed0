"""A Redis client that fails fast: the live store and the limits both have a fallback."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff


def fail_fast_client(
    url: str,
    *,
    timeout_seconds: float,
    max_connections: int = 32,
    health_check_interval: int = 30,
) -> aioredis.Redis:
    """Every phase (a pooled connection, connecting, a reply) bounded by ``timeout_seconds``,
    no retries: callers fall back to something else at once. A full pool waits instead of
    raising at once."""
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=timeout_seconds,
        socket_timeout=timeout_seconds,
        socket_connect_timeout=timeout_seconds,
        health_check_interval=health_check_interval,
        retry=Retry(NoBackoff(), 0),
    )
    return aioredis.Redis.from_pool(pool)
