"""Where limits keep their state: request rates, one-at-a-time sections, failure back-off.

With one API process an in-process store is exact. With several replicas behind a balancer
every replica must count against the same state, or N replicas let N times the limit through:
the Redis adapter keeps it in the live store's Redis, each operation one atomic script.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractAsyncContextManager

from pagemill.domain.limits import Backoff, TokenBucket


class LimitStore(ABC):
    @abstractmethod
    async def take(self, key: str, bucket: TokenBucket) -> float:
        """Take one token from ``key``'s bucket (full when new), atomically for everyone who
        shares the store. 0 when a token was taken; else the seconds until one is there (and
        nothing was taken)."""

    @abstractmethod
    def hold(
        self, name: str, *, lease_seconds: float, wait_seconds: float
    ) -> AbstractAsyncContextManager[bool]:
        """Hold the mutex ``name`` for the ``async with`` block: one holder at a time among
        all who share the store. Waits up to ``wait_seconds`` for it and enters with True, or
        enters with False when it could not be had in time (the caller decides). A holder that
        is gone (crashed) loses it after ``lease_seconds``."""

    @abstractmethod
    async def penalty(self, key: str) -> float:
        """Seconds ``key`` is still locked out after its failures (0: it may try now)."""

    @abstractmethod
    async def fail(self, key: str, backoff: Backoff) -> float:
        """Count a failure of ``key``; return the lock-out (seconds) it now has."""

    @abstractmethod
    async def clear(self, key: str) -> None:
        """Forget ``key``'s failures (it succeeded)."""

    @abstractmethod
    async def close(self) -> None: ...
