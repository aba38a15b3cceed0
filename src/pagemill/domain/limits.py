"""The arithmetic of limits: token buckets (request rates) and failure back-off (logins).

Kept pure so that the in-process store and the Redis script compute the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TokenBucket:
    """``burst`` tokens at most, refilled at ``rate_per_second``; a request takes one."""

    rate_per_second: float
    burst: float

    def refill(self, tokens: float, elapsed_seconds: float) -> float:
        return min(self.burst, tokens + max(0.0, elapsed_seconds) * self.rate_per_second)

    def wait_for_one(self, tokens: float) -> float:
        """Seconds until ``tokens`` grows to one (0 when a token is there)."""
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate_per_second

    @property
    def full_after_seconds(self) -> float:
        """After this long without requests a bucket is full again: its state can go."""
        return self.burst / self.rate_per_second


@dataclass(frozen=True, slots=True)
class Backoff:
    """Lock-out after repeated failures: the ``free_failures``-th failure locks the key out
    for ``base_seconds``, each further one for twice as long as the one before, at most
    ``max_seconds``; failures are forgotten ``forget_seconds`` after the last lock-out ends."""

    free_failures: int = 5
    base_seconds: float = 1.0
    max_seconds: float = 900.0
    forget_seconds: float = 3600.0

    def lockout_seconds(self, failures: int) -> float:
        if failures < self.free_failures:
            return 0.0
        exponent = min(failures - self.free_failures, 40)  # 2**40 s is past any max
        return min(self.max_seconds, self.base_seconds * 2.0**exponent)
