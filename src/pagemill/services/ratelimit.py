"""A token bucket per caller (API key or browser session), in process memory.

Each bucket holds up to ``burst`` tokens and refills at ``per_minute / 60`` tokens a second;
a request takes one token or is refused with the seconds until one is available. With several
API replicas every replica keeps its own buckets, so the effective limit is per replica
(a load balancer spreading a client over N replicas lets through up to N times as much).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from pagemill.domain.errors import RateLimited

_MAX_BUCKETS = 100_000


class RateLimiter:
    def __init__(
        self,
        per_minute: int,
        burst: int | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """``per_minute`` 0 disables the limit; ``burst`` defaults to ``per_minute``."""
        self._rate = per_minute / 60.0
        self._burst = float(burst if burst is not None and burst > 0 else per_minute)
        self._monotonic = monotonic
        self._buckets: dict[str, tuple[float, float]] = {}  # caller → (tokens, updated)

    @property
    def enabled(self) -> bool:
        return self._rate > 0

    def hit(self, caller: str) -> None:
        """Take one token of ``caller``'s bucket or raise ``RateLimited`` with Retry-After."""
        if self._rate <= 0:
            return
        now = self._monotonic()
        tokens, updated = self._buckets.get(caller, (self._burst, now))
        tokens = min(self._burst, tokens + (now - updated) * self._rate)
        if tokens < 1.0:
            self._buckets[caller] = (tokens, now)
            retry_after = max(1, math.ceil((1.0 - tokens) / self._rate))
            raise RateLimited(
                f"Rate limit exceeded ({int(self._rate * 60)} requests per minute): retry "
                f"after {retry_after} s.",
                retry_after,
            )
        if len(self._buckets) >= _MAX_BUCKETS and caller not in self._buckets:
            self._prune(now)
        self._buckets[caller] = (tokens - 1.0, now)

    def _prune(self, now: float) -> None:
        # Buckets that would be full again carry no information: drop them.
        full_after = self._burst / self._rate
        for caller, (_, updated) in list(self._buckets.items()):
            if now - updated >= full_after:
                del self._buckets[caller]
        if len(self._buckets) >= _MAX_BUCKETS:
            self._buckets.clear()
