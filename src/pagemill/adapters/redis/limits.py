"""Limits kept in Redis, so that every API replica counts against the same state.

Each operation is one Lua script, atomic in Redis and timed by the server's clock (``TIME``),
so replicas whose clocks disagree still agree on a bucket. Keys (``pm:`` is the prefix)::

    pm:limit:bucket:<key>    hash tokens, at             expires once the bucket is full again
    pm:limit:fail:<key>      hash count, until           expires when its failures are forgotten
    pm:limit:mutex:<name>    string holder token         expires after the holder's lease

When Redis cannot be reached the store says so in the log and answers from ``fallback`` (the
in-process store) for ``fallback_seconds`` before trying Redis again: limits then hold per
replica (as before this store existed) instead of failing every request or making each one wait
for Redis's timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import time
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

from redis.exceptions import RedisError

from pagemill.adapters.redis.client import fail_fast_client
from pagemill.domain.limits import Backoff, TokenBucket
from pagemill.ports.limits import LimitStore

log = logging.getLogger(__name__)
T = TypeVar("T")

# KEYS: bucket. ARGV: rate per second, burst. Returns the wait in seconds, as text (a Lua
# number would come back truncated to an integer).
_TAKE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'at',
           string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return string.format('%.6f', wait)
"""

# KEYS: failures. ARGV: free failures, base s, max s, forget s. Returns the lock-out, as text.
_FAIL = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
local free = tonumber(ARGV[1])
local lockout = 0
if count >= free then
  lockout = math.min(tonumber(ARGV[3]), tonumber(ARGV[2]) * 2 ^ math.min(count - free, 40))
end
redis.call('HSET', KEYS[1], 'until', string.format('%.6f', now + lockout))
redis.call('PEXPIRE', KEYS[1], math.ceil((lockout + tonumber(ARGV[4])) * 1000))
return string.format('%.6f', lockout)
"""

# KEYS: failures. Returns the seconds still locked out, as text.
_PENALTY = """
local until_at = tonumber(redis.call('HGET', KEYS[1], 'until'))
if until_at == nil then
  return '0'
end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
return string.format('%.6f', math.max(0, until_at - now))
"""

# KEYS: mutex. ARGV: holder token. Deletes the mutex only if this holder still has it.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class _Unavailable(Exception):
    """Redis cannot be reached (now, or it failed within ``fallback_seconds``)."""


class RedisLimitStore(LimitStore):
    def __init__(
        self,
        url: str,
        fallback: LimitStore,
        *,
        prefix: str = "pm:",
        timeout_seconds: float = 0.5,
        fallback_seconds: float = 5.0,
        max_connections: int = 32,
    ) -> None:
        self._prefix = f"{prefix}limit:"
        self._deadline = timeout_seconds
        self._fallback_seconds = fallback_seconds
        self._client = fail_fast_client(
            url, timeout_seconds=timeout_seconds, max_connections=max_connections
        )
        self._take = self._client.register_script(_TAKE)
        self._fail = self._client.register_script(_FAIL)
        self._penalty = self._client.register_script(_PENALTY)
        self._release = self._client.register_script(_RELEASE)
        self._local = fallback
        self._down_until = 0.0  # monotonic: until then Redis is not asked

    @property
    def degraded(self) -> bool:
        """True while limits are kept in this process because Redis could not be reached."""
        return time.monotonic() < self._down_until

    async def take(self, key: str, bucket: TokenBucket) -> float:
        args = [repr(bucket.rate_per_second), repr(bucket.burst)]
        try:
            answer = await self._redis(self._take(keys=[self.redis_key("bucket", key)], args=args))
        except _Unavailable:
            return await self._local.take(key, bucket)
        return float(answer)

    @contextlib.asynccontextmanager
    async def hold(
        self, name: str, *, lease_seconds: float, wait_seconds: float
    ) -> AsyncIterator[bool]:
        key, token = self.redis_key("mutex", name), secrets.token_hex(16)
        lease_ms = max(1, round(lease_seconds * 1000))
        deadline = time.monotonic() + wait_seconds
        delay = 0.005
        while True:
            try:
                acquired = await self._redis(self._client.set(key, token, nx=True, px=lease_ms))
            except _Unavailable:  # this process's lock instead
                left = max(0.0, deadline - time.monotonic())
                async with self._local.hold(
                    name, lease_seconds=lease_seconds, wait_seconds=left
                ) as held:
                    yield held
                return
            if acquired:  # None: someone else holds it
                break
            if time.monotonic() >= deadline:
                yield False
                return
            left = max(0.0, deadline - time.monotonic())
            await asyncio.sleep(min(delay * random.uniform(0.5, 1.5), left))
            delay = min(delay * 2, 0.1)
        try:
            yield True
        finally:
            with contextlib.suppress(_Unavailable):  # the lease lets it go then
                await self._redis(self._release(keys=[key], args=[token]))

    async def penalty(self, key: str) -> float:
        try:
            answer = await self._redis(self._penalty(keys=[self.redis_key("fail", key)]))
        except _Unavailable:
            return await self._local.penalty(key)
        return float(answer)

    async def fail(self, key: str, backoff: Backoff) -> float:
        args: list[str | int] = [
            backoff.free_failures,
            repr(backoff.base_seconds),
            repr(backoff.max_seconds),
            repr(backoff.forget_seconds),
        ]
        try:
            answer = await self._redis(self._fail(keys=[self.redis_key("fail", key)], args=args))
        except _Unavailable:
            return await self._local.fail(key, backoff)
        return float(answer)

    async def clear(self, key: str) -> None:
        try:
            await self._redis(self._client.delete(self.redis_key("fail", key)))
        except _Unavailable:
            await self._local.clear(key)

    async def close(self) -> None:
        await self._client.aclose()
        await self._local.close()

    def redis_key(self, kind: str, name: str) -> str:
        """The Redis key of a bucket, a failure count or a mutex (``kind``): for inspection."""
        return f"{self._prefix}{kind}:{name}"

    async def _redis(self, command: Awaitable[T]) -> T:
        """The command's answer; ``_Unavailable`` when Redis cannot be reached (now, or
        recently)."""
        if self.degraded:
            if asyncio.iscoroutine(command):
                command.close()  # never awaited: do not leave a warning behind
            raise _Unavailable
        try:
            async with asyncio.timeout(self._deadline):
                return await command
        except (RedisError, OSError) as error:  # TimeoutError is an OSError
            self._down_until = time.monotonic() + self._fallback_seconds
            log.warning(
                "Redis is unavailable for limits (%s): limits hold per process for %g s",
                str(error) or type(error).__name__,
                self._fallback_seconds,
            )
            raise _Unavailable from error
