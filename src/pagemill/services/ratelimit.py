"""Request rates per caller, and the back-off of failed logins, on a ``LimitStore``.

**Requests.** A token bucket per caller (API key or browser session): up to ``burst``
requests at once, refilled at ``per_minute / 60`` a second; over it, 429 with the seconds until
the next request is allowed. With a live store URL (Redis) every API replica takes from the same
bucket; in process (embedded) the buckets are this process's.

**Logins.** Password guessing is bounded per account and per client address: after a few
failures each further one locks the account (or the address) out for twice as long as the
previous one, up to a maximum; a success clears the account's count. The check runs before the
password is hashed, so a locked-out guess costs no hashing, and it applies to unknown accounts
alike, so it tells nothing about which exist.
"""

from __future__ import annotations

import math

from pagemill.domain.errors import RateLimited
from pagemill.domain.limits import Backoff, TokenBucket
from pagemill.ports.limits import LimitStore


class RateLimiter:
    def __init__(self, store: LimitStore, per_minute: int, burst: int | None = None) -> None:
        """``per_minute`` 0 disables the limit; ``burst`` defaults to ``per_minute``."""
        self._store = store
        self._per_minute = per_minute
        self._bucket = (
            TokenBucket(per_minute / 60.0, float(burst if burst else per_minute))
            if per_minute > 0
            else None
        )

    @property
    def enabled(self) -> bool:
        return self._bucket is not None

    async def hit(self, caller: str) -> None:
        """Take one request of ``caller``'s budget or raise ``RateLimited`` with Retry-After."""
        if self._bucket is None:
            return
        wait = await self._store.take(f"rate:{caller}", self._bucket)
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise RateLimited(
                f"Rate limit exceeded ({self._per_minute} requests per minute): retry after "
                f"{retry_after} s.",
                retry_after,
            )


class LoginThrottle:
    def __init__(self, store: LimitStore, per_account: Backoff, per_address: Backoff) -> None:
        self._store = store
        self._per_account = per_account
        self._per_address = per_address

    async def check(self, account: str, address: str | None) -> None:
        """``RateLimited`` while the account or the address is locked out."""
        waits = [await self._store.penalty(_account(account))]
        if address:
            waits.append(await self._store.penalty(_address(address)))
        wait = max(waits)
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise RateLimited(f"Too many failed logins: try again in {retry_after} s.", retry_after)

    async def failed(self, account: str, address: str | None) -> None:
        await self._store.fail(_account(account), self._per_account)
        if address:
            await self._store.fail(_address(address), self._per_address)

    async def succeeded(self, account: str) -> None:
        # The address keeps its count: one good password must not clear the way for guesses
        # at other accounts from the same place.
        await self._store.clear(_account(account))


def _account(account: str) -> str:
    return f"login:account:{account.strip().lower()[:320]}"


def _address(address: str) -> str:
    return f"login:address:{address}"
