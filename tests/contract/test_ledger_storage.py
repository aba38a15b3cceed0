"""The storage part of the ledger contract: bytes counted per team, a quota never passed."""

from __future__ import annotations

import asyncio

from pagemill.adapters.sql import SqlLedger
from tests.contract.ledger_kit import team


async def test_bytes_are_counted_per_team(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    await team(ledger, "team_b")

    assert await ledger.storage.used("team_a") == 0
    assert await ledger.storage.reserve("team_a", 100, None)
    assert await ledger.storage.reserve("team_a", 2**40, None)
    assert await ledger.storage.used("team_a") == 2**40 + 100
    assert await ledger.storage.reserve("team_b", 7, 10)
    await ledger.storage.release("team_a", 2**40)

    assert (await ledger.storage.used("team_a"), await ledger.storage.used("team_b")) == (100, 7)


async def test_a_quota_refuses_what_does_not_fit(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    assert await ledger.storage.reserve("team_a", 60, 100)
    assert not await ledger.storage.reserve("team_a", 50, 100)  # would be 110
    assert await ledger.storage.reserve("team_a", 40, 100)  # exactly fits
    assert await ledger.storage.used("team_a") == 100


async def test_concurrent_reservations_never_pass_the_quota(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")

    outcomes = await asyncio.gather(*(ledger.storage.reserve("team_a", 10, 95) for _ in range(20)))

    assert sum(outcomes) == 9
    assert await ledger.storage.used("team_a") == 90


async def test_releasing_never_goes_below_zero(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    assert await ledger.storage.reserve("team_a", 5, None)
    await ledger.storage.release("team_a", 50)
    await ledger.storage.release("team_z", 50)  # a team that never stored anything

    assert await ledger.storage.used("team_a") == 0
