"""The limit-store contract, run against every adapter (in process, and Redis)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from pagemill.adapters.memory import MemoryLimitStore
from pagemill.domain.limits import Backoff, TokenBucket
from pagemill.ports.limits import LimitStore
from tests.support.redis import redis_limit_store


@pytest.fixture(params=["memory", "redis"])
async def limits(request: pytest.FixtureRequest) -> AsyncIterator[LimitStore]:
    if request.param == "redis":
        # A roomy deadline (production: 0.5 s) so a busy machine does not fall back to memory.
        async with redis_limit_store(timeout_seconds=5.0) as redis_store:
            yield redis_store
        return
    ticks = request.node.stash[TICKS] = Ticks()
    store = MemoryLimitStore(monotonic=ticks)
    yield store
    await store.close()


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


TICKS = pytest.StashKey[Ticks]()
Elapse = Callable[[float], Awaitable[None]]


@pytest.fixture
def elapse(request: pytest.FixtureRequest, limits: LimitStore) -> Elapse:
    """Let ``seconds`` pass for the store: the in-process one's clock is moved; Redis
    expires keys by its own clock, so there the test waits."""
    ticks = request.node.stash.get(TICKS, None)

    async def wait(seconds: float) -> None:
        if ticks is None:
            await asyncio.sleep(seconds)
        else:
            ticks.value += seconds

    return wait


SLOW = TokenBucket(rate_per_second=0.001, burst=3)  # no refill within a test


async def test_a_bucket_gives_its_burst_then_says_how_long_to_wait(limits: LimitStore) -> None:
    taken = [await limits.take("k", SLOW) for _ in range(3)]
    refused = await limits.take("k", SLOW)

    assert taken == [0.0, 0.0, 0.0]
    assert 0 < refused <= 1 / SLOW.rate_per_second
    assert await limits.take("other", SLOW) == 0.0  # buckets are per key


async def test_a_bucket_refills_at_its_rate(limits: LimitStore, elapse: Elapse) -> None:
    fast = TokenBucket(rate_per_second=10.0, burst=1)
    assert await limits.take("k", fast) == 0.0
    wait = await limits.take("k", fast)
    assert 0 < wait <= 0.1 + 1e-6

    await elapse(wait + 0.05)

    assert await limits.take("k", fast) == 0.0


async def test_concurrent_takes_never_exceed_the_burst(limits: LimitStore) -> None:
    bucket = TokenBucket(rate_per_second=0.001, burst=10)

    waits = await asyncio.gather(*(limits.take("busy", bucket) for _ in range(50)))

    assert sum(1 for w in waits if w == 0.0) == 10


async def test_a_mutex_has_one_holder_at_a_time(limits: LimitStore) -> None:
    inside = 0
    most = 0

    async def section() -> bool:
        nonlocal inside, most
        async with limits.hold("m", lease_seconds=10, wait_seconds=10) as held:
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.01)
            inside -= 1
            return held

    held = await asyncio.gather(*(section() for _ in range(8)))

    assert held == [True] * 8
    assert most == 1


async def test_a_mutex_not_had_in_time_enters_with_false(limits: LimitStore) -> None:
    async with limits.hold("m", lease_seconds=10, wait_seconds=1) as first:
        async with limits.hold("m", lease_seconds=10, wait_seconds=0.05) as second:
            assert (first, second) == (True, False)
        async with limits.hold("other", lease_seconds=10, wait_seconds=0.05) as third:
            assert third is True
    async with limits.hold("m", lease_seconds=10, wait_seconds=0.05) as again:
        assert again is True  # released on exit


async def test_failures_lock_out_with_back_off_until_cleared(limits: LimitStore) -> None:
    backoff = Backoff(free_failures=2, base_seconds=30, max_seconds=60, forget_seconds=600)

    lockouts = [await limits.fail("acct", backoff) for _ in range(4)]
    penalty = await limits.penalty("acct")

    assert lockouts == [0.0, 30.0, 60.0, 60.0]
    assert 55 < penalty <= 60
    assert await limits.penalty("someone-else") == 0.0
    await limits.clear("acct")
    assert await limits.penalty("acct") == 0.0
    assert await limits.fail("acct", backoff) == 0.0  # counting starts over


async def test_a_lock_out_ends_by_itself(limits: LimitStore, elapse: Elapse) -> None:
    backoff = Backoff(free_failures=1, base_seconds=0.1, max_seconds=0.1, forget_seconds=60)
    lockout = await limits.fail("acct", backoff)

    await elapse(lockout + 0.05)

    assert await limits.penalty("acct") == 0.0
