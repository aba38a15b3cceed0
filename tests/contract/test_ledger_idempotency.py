"""The idempotency part of the ledger contract: a key recorded with its execution, one winner
among concurrent duplicates, a different request refused, expired keys free and purged."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest

from pagemill.adapters.sql import SqlLedger
from pagemill.domain.errors import IdempotencyMismatch
from pagemill.domain.idempotency import IdempotencyClaim
from pagemill.domain.ids import new_execution_id
from pagemill.domain.models import NewExecution
from tests.contract.ledger_kit import T0, at, new_execution, team


def keyed(team_id: str, key: str, fingerprint: str = "f" * 64, ttl: float = 60) -> NewExecution:
    claim = IdempotencyClaim(key, fingerprint, T0 + timedelta(seconds=ttl))
    return dataclasses.replace(new_execution(team_id, ["convert"]), idempotency=claim)


def again(new: NewExecution, **changes: object) -> NewExecution:
    """The same request submitted again: a new execution id, the same claim unless changed."""
    return dataclasses.replace(new, execution_id=new_execution_id(), **changes)  # type: ignore[arg-type]


async def test_a_key_is_recorded_with_its_execution(ledger: SqlLedger) -> None:
    team_id = await team(ledger)
    new = keyed(team_id, "k")
    created = await ledger.executions.create(new, T0)
    assert created.execution.execution_id == new.execution_id

    found = await ledger.idempotency.find(team_id, "k", at(1))
    assert found is not None
    assert (found.execution_id, found.fingerprint) == (new.execution_id, "f" * 64)
    assert found.expires_at == T0 + timedelta(seconds=60)
    assert await ledger.idempotency.find("team_b", "k", at(1)) is None
    assert await ledger.idempotency.find(team_id, "k", at(60)) is None  # expired


async def test_the_same_request_is_answered_with_the_first_execution(ledger: SqlLedger) -> None:
    team_id = await team(ledger)
    first = keyed(team_id, "k")
    await ledger.executions.create(first, T0)

    replay = await ledger.executions.create(again(first), at(1))

    assert replay.execution.execution_id == first.execution_id
    assert len(replay.steps) == 1
    counts = await ledger.executions.counts()
    assert sum(counts.values()) == 1


async def test_a_different_request_with_the_key_is_refused(ledger: SqlLedger) -> None:
    team_id = await team(ledger)
    first = keyed(team_id, "k")
    await ledger.executions.create(first, T0)

    other = again(first, idempotency=IdempotencyClaim("k", "0" * 64, at(99)))
    with pytest.raises(IdempotencyMismatch):
        await ledger.executions.create(other, at(1))
    assert sum((await ledger.executions.counts()).values()) == 1


async def test_an_expired_key_belongs_to_the_next_request(ledger: SqlLedger) -> None:
    team_id = await team(ledger)
    first = keyed(team_id, "k", ttl=10)
    await ledger.executions.create(first, T0)

    later = again(first, idempotency=IdempotencyClaim("k", "0" * 64, at(100)))
    created = await ledger.executions.create(later, at(11))

    assert created.execution.execution_id == later.execution_id
    found = await ledger.idempotency.find(team_id, "k", at(12))
    assert found is not None and found.execution_id == later.execution_id


async def test_concurrent_duplicates_agree_on_one_execution(ledger: SqlLedger) -> None:
    team_id = await team(ledger)
    first = keyed(team_id, "burst")
    attempts = [first, *(again(first) for _ in range(7))]

    created = await asyncio.gather(*(ledger.executions.create(n, T0) for n in attempts))

    assert len({s.execution.execution_id for s in created}) == 1
    assert sum((await ledger.executions.counts()).values()) == 1


async def test_expired_keys_are_purged_in_batches(ledger: SqlLedger) -> None:
    team_id = await team(ledger)
    for index in range(5):
        await ledger.executions.create(keyed(team_id, f"k{index}", ttl=10 + index), T0)

    assert await ledger.idempotency.purge_expired(at(13), limit=2) == 2
    assert await ledger.idempotency.purge_expired(at(13), limit=2) == 2
    assert await ledger.idempotency.purge_expired(at(13), limit=2) == 0
    assert await ledger.idempotency.find(team_id, "k4", at(13)) is not None
