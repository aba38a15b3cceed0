"""Online password guessing is bounded: per account and per client address, with lock-outs
that double, checked before any password is hashed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import pagemill.services.sessions as sessions_module
from pagemill.domain.limits import Backoff
from pagemill.services import passwords
from tests.component.test_teams_api import PASSWORD, add_member
from tests.support.app import TestServer, test_server
from tests.support.processors import test_registry

LOGIN = "/api/v1/auth/login"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    async with test_server(
        tmp_path / "data",
        test_registry(),
        session_cookie_secure=False,
        login_free_failures=3,
        login_free_failures_per_address=6,
        login_lockout_base_seconds=60,
    ) as running:
        yield running


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password check that ran the password hash."""
    checked: list[str] = []
    real = passwords.verify_password_async

    async def counting(password: str, stored: str) -> bool:
        checked.append(password)
        return await real(password, stored)

    monkeypatch.setattr(sessions_module, "verify_password_async", counting)
    return checked


async def attempt(server: TestServer, email: str, password: str) -> tuple[int, str | None]:
    response = await server.client.post(LOGIN, json={"email": email, "password": password})
    server.client.cookies.clear()
    return response.status_code, response.headers.get("retry-after")


async def test_guessing_one_account_is_locked_out(server: TestServer, hashes: list[str]) -> None:
    await add_member(server, "olga@example.com")

    # The attack: guess the password, again and again.
    guesses = [await attempt(server, "olga@example.com", f"guess-{i}") for i in range(6)]
    right_password = await attempt(server, "olga@example.com", PASSWORD)

    assert [status for status, _ in guesses] == [401, 401, 401, 429, 429, 429]
    assert guesses[3][1] is not None and int(guesses[3][1]) >= 60
    assert right_password[0] == 429  # even the right one waits out the lock-out
    assert len(hashes) == 3  # locked-out attempts cost no scrypt


async def test_unknown_accounts_are_locked_out_alike(server: TestServer) -> None:
    statuses = [(await attempt(server, "nobody@example.com", "x" * 8))[0] for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


async def test_guessing_across_accounts_from_one_address_is_locked_out(
    server: TestServer,
) -> None:
    await add_member(server, "olga@example.com")
    # Two failures per account stay under the account limit; the address collects them all.
    statuses = [
        (await attempt(server, f"user{i // 2}@example.com", "wrong-password"))[0] for i in range(7)
    ]
    innocent = await attempt(server, "olga@example.com", PASSWORD)

    assert statuses == [401] * 6 + [429]
    assert innocent[0] == 429  # from the same address: the address is locked out


async def test_a_success_clears_the_accounts_count(server: TestServer) -> None:
    await add_member(server, "olga@example.com")
    for _ in range(2):
        assert (await attempt(server, "olga@example.com", "wrong-password"))[0] == 401
    assert (await attempt(server, "olga@example.com", PASSWORD))[0] == 200
    for _ in range(2):
        assert (await attempt(server, "olga@example.com", "wrong-password"))[0] == 401
    assert (await attempt(server, "olga@example.com", PASSWORD))[0] == 200


def test_each_lockout_doubles_up_to_the_maximum() -> None:
    backoff = Backoff(free_failures=3, base_seconds=1, max_seconds=900, forget_seconds=3600)
    assert [backoff.lockout_seconds(n) for n in range(1, 8)] == [0, 0, 1, 2, 4, 8, 16]
    assert backoff.lockout_seconds(1000) == 900
