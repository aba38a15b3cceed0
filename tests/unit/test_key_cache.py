"""The API-key cache: one ledger read per key however many requests wait for it, renewal ahead
of expiry, revocation within the window, and the last-used write off the request path."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from typing import cast

import pytest

from pagemill.domain.errors import ServiceUnavailable, Unauthenticated
from pagemill.domain.ids import KEY_PREFIX
from pagemill.domain.models import ApiKey
from pagemill.domain.teams import Role
from pagemill.ports.ledger.tenancy import TenancyLedger
from pagemill.services.keys import SECRET_PREFIX, KeyService, hash_secret

KEY_BODY = "k" * 12
SECRET = SECRET_PREFIX + KEY_BODY + "s" * 32
KEY_ID = KEY_PREFIX + KEY_BODY
NOW = datetime(2026, 1, 1, tzinfo=UTC)
WINDOW = 5.0


class FixedClock:
    def now(self) -> datetime:
        return NOW


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.value = 100.0

    def __call__(self) -> float:
        return self.value


class KeyLedger:
    """The key half of a ledger: counts reads; reads and touches can be held at a gate."""

    def __init__(self) -> None:
        self.key = ApiKey(KEY_ID, "team_1", "default", hash_secret(SECRET), NOW)
        self.reads = 0
        self.touches: list[str] = []
        self.read_gate: asyncio.Event | None = None
        self.touch_gate: asyncio.Event | None = None
        self.down = False

    async def api_key(self, key_id: str) -> ApiKey | None:
        self.reads += 1
        seen = self.key if key_id == self.key.id else None  # the row as the read finds it
        if self.read_gate is not None:
            await self.read_gate.wait()
        if self.down:
            raise ServiceUnavailable("The database is unavailable: test")
        return seen

    async def touch_api_key(self, key_id: str, now: datetime) -> None:
        if self.touch_gate is not None:
            await self.touch_gate.wait()
        self.touches.append(key_id)

    async def revoke_api_key(self, team_id: str, key_id: str, now: datetime) -> ApiKey | None:
        self.key = dataclasses.replace(self.key, revoked_at=now)
        return self.key

    def revoke_elsewhere(self) -> None:
        """Another API process revoked the key: only the ledger knows."""
        self.key = dataclasses.replace(self.key, revoked_at=NOW)


def service(ledger: KeyLedger, ticks: Ticks, cache_seconds: float = WINDOW) -> KeyService:
    return KeyService(cast(TenancyLedger, ledger), FixedClock(), cache_seconds, monotonic=ticks)


async def settle() -> None:
    """Let tasks started so far run to their next wait."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_concurrent_requests_with_one_key_share_one_ledger_read() -> None:
    ledger, ticks = KeyLedger(), Ticks()
    keys = service(ledger, ticks)
    ledger.read_gate = asyncio.Event()

    waiting = [asyncio.create_task(keys.authenticate(SECRET)) for _ in range(20)]
    await settle()
    ledger.read_gate.set()
    principals = await asyncio.gather(*waiting)

    assert ledger.reads == 1
    assert {p.key_id for p in principals} == {KEY_ID}
    await keys.close()


async def test_concurrent_requests_with_a_wrong_key_share_one_read_and_all_fail() -> None:
    ledger, ticks = KeyLedger(), Ticks()
    keys = service(ledger, ticks)
    ledger.read_gate = asyncio.Event()
    wrong = SECRET[:-1] + "x"

    waiting = [asyncio.create_task(keys.authenticate(wrong)) for _ in range(10)]
    await settle()
    ledger.read_gate.set()
    results = await asyncio.gather(*waiting, return_exceptions=True)

    assert ledger.reads == 1
    assert all(isinstance(r, Unauthenticated) for r in results)
    assert len({id(r) for r in results}) == 10  # one exception per request, not one shared
    await keys.close()


async def test_a_request_that_goes_away_does_not_cancel_the_shared_read() -> None:
    ledger, ticks = KeyLedger(), Ticks()
    keys = service(ledger, ticks)
    ledger.read_gate = asyncio.Event()

    leaving = asyncio.create_task(keys.authenticate(SECRET))
    staying = asyncio.create_task(keys.authenticate(SECRET))
    await settle()
    leaving.cancel()
    ledger.read_gate.set()

    assert (await staying).key_id == KEY_ID
    assert ledger.reads == 1
    with pytest.raises(asyncio.CancelledError):
        await leaving
    await keys.close()


async def test_an_entry_is_renewed_ahead_of_expiry_while_requests_are_served_from_it() -> None:
    ledger, ticks = KeyLedger(), Ticks()
    keys = service(ledger, ticks)
    await keys.authenticate(SECRET)
    ticks.value += WINDOW * 0.4
    await keys.authenticate(SECRET)
    assert ledger.reads == 1  # fresh: no read

    ledger.read_gate = asyncio.Event()  # the renewal is slow: requests must not wait for it
    ticks.value += WINDOW * 0.3
    assert (await keys.authenticate(SECRET)).key_id == KEY_ID
    assert (await keys.authenticate(SECRET)).key_id == KEY_ID
    await settle()
    assert ledger.reads == 2  # one renewal for both requests
    ledger.read_gate.set()
    await settle()

    # Renewed at 0.7 of the window: still good past the first entry's end, without a read.
    ticks.value += WINDOW * 0.5
    await keys.authenticate(SECRET)
    assert ledger.reads == 2
    await keys.close()


async def test_a_key_revoked_elsewhere_stops_when_the_renewal_sees_it() -> None:
    ledger, ticks = KeyLedger(), Ticks()
    keys = service(ledger, ticks)
    await keys.authenticate(SECRET)
    ledger.revoke_elsewhere()

    ticks.value += WINDOW * 0.6
    await keys.authenticate(SECRET)  # still within the window: served, renewal started
    await settle()

    with pytest.raises(Unauthenticated):
        await keys.authenticate(SECRET)
    await keys.close()


async def test_a_key_revoked_elsewhere_stops_at_the_end_of_the_window_at_the_latest() -> None:
    ledger, ticks = KeyLedger(), Ticks()
    keys = service(ledger, ticks)
    await keys.authenticate(SECRET)
    ledger.revoke_elsewhere()
    ticks.value += WINDOW * 0.49
    await keys.authenticate(SECRET)  # before the renewal point: served from the cache

    ticks.value = 100.0 + WINDOW  # the window, counted from the start of the first read
    with pytest.raises(Unauthenticated):
        await keys.authenticate(SECRET)
    await keys.close()


async def test_an_entry_that_could_not_be_renewed_ends_with_its_window() -> None:
    ledger, ticks = KeyLedger(), Ticks()
    keys = service(ledger, ticks)
    await keys.authenticate(SECRET)
    ledger.down = True

    ticks.value += WINDOW * 0.6
    await keys.authenticate(SECRET)  # the renewal fails in the background
    await settle()
    ticks.value += WINDOW * 0.3
    assert (await keys.authenticate(SECRET)).key_id == KEY_ID  # still within the window

    ticks.value += WINDOW * 0.2
    with pytest.raises(ServiceUnavailable):
        await keys.authenticate(SECRET)
    await keys.close()


async def test_a_revocation_here_is_not_undone_by_a_read_that_began_before_it() -> None:
    ledger, ticks = KeyLedger(), Ticks()
    keys = service(ledger, ticks)
    ledger.read_gate = asyncio.Event()
    before = asyncio.create_task(keys.authenticate(SECRET))
    await settle()

    await keys.revoke_key("team_1", KEY_ID, actor=Role.OWNER)
    ledger.read_gate.set()
    await before  # the read saw the key before the revocation: that request may pass

    with pytest.raises(Unauthenticated):
        await keys.authenticate(SECRET)
    await keys.close()


async def test_the_last_use_is_written_in_the_background_once_per_interval() -> None:
    ledger, ticks = KeyLedger(), Ticks()
    keys = service(ledger, ticks, cache_seconds=0)
    ledger.touch_gate = asyncio.Event()  # a slow write must not hold the request

    for _ in range(3):
        assert (await keys.authenticate(SECRET)).key_id == KEY_ID
    assert ledger.touches == []

    ledger.touch_gate.set()
    await keys.settle()
    assert ledger.touches == [KEY_ID]
    await keys.close()
