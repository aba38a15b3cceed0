"""Limits kept in this process: exact for one API process (the embedded server), and what the
Redis store falls back to while Redis cannot be reached."""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections.abc import AsyncIterator, Callable

from pagemill.domain.limits import Backoff, TokenBucket
from pagemill.ports.limits import LimitStore

MAX_KEYS = 100_000


class MemoryLimitStore(LimitStore):
    def __init__(self, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._buckets: dict[str, tuple[float, float, float]] = {}  # tokens, at, full after
        self._failures: dict[str, tuple[int, float, float]] = {}  # count, locked until, forget
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def take(self, key: str, bucket: TokenBucket) -> float:
        now = self._monotonic()
        tokens, at, _ = self._buckets.get(key, (bucket.burst, now, 0.0))
        tokens = bucket.refill(tokens, now - at)
        wait = bucket.wait_for_one(tokens)
        if wait == 0.0:
            tokens -= 1.0
        if key not in self._buckets and len(self._buckets) >= MAX_KEYS:
            self._prune(now)
        self._buckets[key] = (tokens, now, now + bucket.full_after_seconds)
        return wait

    @contextlib.asynccontextmanager
    async def hold(
        self, name: str, *, lease_seconds: float, wait_seconds: float
    ) -> AsyncIterator[bool]:
        # In one process a holder cannot vanish without leaving the block: no lease needed.
        lock = self._locks.get(name)
        if lock is None:
            lock = self._locks[name] = asyncio.Lock()
        try:
            async with asyncio.timeout(wait_seconds):
                await lock.acquire()
        except TimeoutError:
            yield False
            return
        try:
            yield True
        finally:
            lock.release()

    async def penalty(self, key: str) -> float:
        now = self._monotonic()
        _, until, forget = self._failures.get(key, (0, now, now))
        if forget <= now:
            self._failures.pop(key, None)
            return 0.0
        return max(0.0, until - now)

    async def fail(self, key: str, backoff: Backoff) -> float:
        now = self._monotonic()
        count, _, forget = self._failures.get(key, (0, now, now))
        count = count + 1 if forget > now else 1
        lockout = backoff.lockout_seconds(count)
        if key not in self._failures and len(self._failures) >= MAX_KEYS:
            self._prune(now)
        self._failures[key] = (count, now + lockout, now + lockout + backoff.forget_seconds)
        return lockout

    async def clear(self, key: str) -> None:
        self._failures.pop(key, None)

    async def close(self) -> None:
        return None

    def _prune(self, now: float) -> None:
        """Drop state that no longer limits anyone (full buckets, forgotten failures)."""
        for key, (_, _, full_at) in list(self._buckets.items()):
            if full_at <= now:
                del self._buckets[key]
        for key, (_, _, forget) in list(self._failures.items()):
            if forget <= now:
                del self._failures[key]
        for table in (self._buckets, self._failures):
            if len(table) >= MAX_KEYS:  # still full: memory wins over precision
                table.clear()
