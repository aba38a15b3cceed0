"""Browser sessions: login, the wos-session cookie, team selection, CSRF, logout, passwords."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.component.test_teams_api import PASSWORD, add_member, join, login
from tests.support.app import TestServer, test_server
from tests.support.clock import FakeClock
from tests.support.processors import test_registry
from tests.unit.test_passwords import scrypt_hash

AUTH = "/api/v1/auth"
COOKIE = "wos-session"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    # The test client talks plain http: a Secure cookie would never be sent back.
    async with test_server(
        tmp_path / "data", test_registry(), session_cookie_secure=False
    ) as running:
        yield running


def use_session(server: TestServer, token: str, team: str | None = None) -> None:
    server.client.cookies.clear()
    server.client.cookies.set(COOKIE, token)
    if team is not None:
        server.client.cookies.set("datalab_active_team", team)


async def pipeline_count(server: TestServer, **kw: object) -> int:
    response = await server.client.get(
        "/api/v1/pipelines",
        params={"saved_only": "false"},
        **kw,  # type: ignore[arg-type]
    )
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


async def test_login_sets_a_hardened_cookie_and_returns_the_session(tmp_path: Path) -> None:
    async with test_server(tmp_path / "d", test_registry()) as server:  # Secure by default
        member = await add_member(server, "olga@example.com", "owner")

        response = await server.client.post(
            f"{AUTH}/login", json={"email": " OLGA@example.com", "password": PASSWORD}
        )

    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for flag in ("HttpOnly", "Secure", "SameSite=lax", "Path=/", "expires="):
        assert flag.lower() in cookie.lower(), flag
    body = response.json()
    assert body["user"] == {"id": member["user_id"], "email": "olga@example.com", "name": "olga"}
    assert body["teams"] == [{"id": body["active_team"], "name": "alpha", "role": "owner"}]
    assert body["csrf_token"]
    assert body["expires_at"].endswith("Z")


async def test_wrong_credentials_are_one_401(server: TestServer) -> None:
    await add_member(server, "olga@example.com")
    wrong = {"email": "olga@example.com", "password": "not the password"}
    unknown = {"email": "nobody@example.com", "password": PASSWORD}
    malformed = {"email": "nobody", "password": PASSWORD}

    answers = [
        await server.client.post(f"{AUTH}/login", json=b) for b in (wrong, unknown, malformed)
    ]

    assert {r.status_code for r in answers} == {401}
    assert {r.json()["detail"] for r in answers} == {"Invalid email or password."}
    assert all("set-cookie" not in r.headers for r in answers)


async def test_a_user_created_without_a_password_cannot_log_in(server: TestServer) -> None:
    await server.client.post(
        "/api/v1/teams/current/members", json={"email": "x@example.com"}, headers=server.headers()
    )
    response = await server.client.post(
        f"{AUTH}/login", json={"email": "x@example.com", "password": ""}
    )
    assert response.status_code == 422
    response = await server.client.post(
        f"{AUTH}/login", json={"email": "x@example.com", "password": "anything at all"}
    )
    assert response.status_code == 401


async def test_cookie_requests_act_for_the_team_and_changes_need_csrf(server: TestServer) -> None:
    await add_member(server, "olga@example.com")
    csrf = await login(server, "olga@example.com")
    steps = {"steps": [{"type": "convert", "settings": {}}]}

    without = await server.client.post("/api/v1/pipelines", json=steps)
    wrong = await server.client.post(
        "/api/v1/pipelines", json=steps, headers={"X-CSRF-Token": csrf[:-2] + "xx"}
    )
    created = await server.client.post(
        "/api/v1/pipelines", json=steps, headers={"X-CSRF-Token": csrf}
    )

    assert (without.status_code, wrong.status_code, created.status_code) == (403, 403, 200)
    assert "X-CSRF-Token" in without.json()["detail"]
    assert await pipeline_count(server) == 1
    server.client.cookies.clear()
    assert await pipeline_count(server, headers=server.headers("alpha")) == 1
    # API keys need no CSRF token, and win over the cookie.
    await login(server, "olga@example.com")
    beta = server.headers("beta")
    assert (await server.client.post("/api/v1/pipelines", json=steps, headers=beta)).is_success
    assert await pipeline_count(server, headers=beta) == 1
    assert await pipeline_count(server) == 1


async def test_the_active_team_cookie_picks_one_of_the_users_teams(server: TestServer) -> None:
    await add_member(server, "sam@example.com", "admin")
    await join(server, "sam@example.com", "member", team="beta")
    await login(server, "sam@example.com")
    token = server.client.cookies[COOKIE]
    beta = await server.client.get("/api/v1/teams/current", headers=server.headers("beta"))
    beta_id = beta.json()["id"]

    undecided = await server.client.get("/api/v1/pipelines")
    use_session(server, token, "alpha")
    by_name = await server.client.get("/api/v1/teams/current")
    use_session(server, token, beta_id)
    by_id = await server.client.get("/api/v1/teams/current")
    use_session(server, token, "gamma")
    unknown = await server.client.get("/api/v1/pipelines")
    session = await server.client.get(f"{AUTH}/session")

    assert undecided.status_code == 400
    assert "datalab_active_team" in undecided.json()["detail"]
    assert (by_name.json()["name"], by_name.json()["role"]) == ("alpha", "admin")
    assert (by_id.json()["name"], by_id.json()["role"]) == ("beta", "member")
    assert unknown.status_code == 404
    assert "'gamma'" in unknown.json()["detail"]
    assert session.status_code == 200
    assert session.json()["active_team"] is None
    assert [t["name"] for t in session.json()["teams"]] == ["alpha", "beta"]


async def test_a_team_the_user_does_not_belong_to_is_not_found(server: TestServer) -> None:
    await add_member(server, "olga@example.com")
    await login(server, "olga@example.com")
    token = server.client.cookies[COOKIE]

    use_session(server, token, "beta")
    response = await server.client.get("/api/v1/pipelines")

    assert response.status_code == 404


async def test_logout_ends_the_session_on_the_server(server: TestServer) -> None:
    await add_member(server, "olga@example.com")
    csrf = await login(server, "olga@example.com")
    token = server.client.cookies[COOKIE]

    refused = await server.client.post(f"{AUTH}/logout")
    assert refused.status_code == 403
    response = await server.client.post(f"{AUTH}/logout", headers={"X-CSRF-Token": csrf})

    assert response.status_code == 204
    assert f'{COOKIE}=""' in response.headers["set-cookie"]
    use_session(server, token)  # a copy of the cookie kept by an attacker
    replayed = await server.client.get("/api/v1/pipelines")
    assert replayed.status_code == 401
    assert (await server.client.get(f"{AUTH}/session")).status_code == 401
    again = await server.client.post(f"{AUTH}/logout")
    assert again.status_code == 204


async def test_a_password_change_ends_every_session(server: TestServer) -> None:
    await add_member(server, "olga@example.com")
    await login(server, "olga@example.com")
    other_device = server.client.cookies[COOKIE]
    csrf = await login(server, "olga@example.com")
    change = {"current_password": PASSWORD, "new_password": "a new passphrase"}

    wrong = await server.client.post(
        f"{AUTH}/password",
        json={**change, "current_password": "guess guess"},
        headers={"X-CSRF-Token": csrf},
    )
    changed = await server.client.post(
        f"{AUTH}/password", json=change, headers={"X-CSRF-Token": csrf}
    )

    assert (wrong.status_code, changed.status_code) == (403, 204)
    assert (await server.client.get("/api/v1/pipelines")).status_code == 401
    use_session(server, other_device)
    assert (await server.client.get("/api/v1/pipelines")).status_code == 401
    server.client.cookies.clear()
    old = await server.client.post(
        f"{AUTH}/login", json={"email": "olga@example.com", "password": PASSWORD}
    )
    assert old.status_code == 401
    await login(server, "olga@example.com", "a new passphrase")


async def test_tampered_and_expired_cookies_are_refused(tmp_path: Path) -> None:
    clock = FakeClock()
    async with test_server(
        tmp_path / "d",
        test_registry(),
        clock=clock,
        session_cookie_secure=False,
        session_ttl_seconds=5,
    ) as server:
        await add_member(server, "olga@example.com")
        await login(server, "olga@example.com")
        token = server.client.cookies[COOKIE]
        user_id, expiry, session_id, signature = token.split(".")

        for forged in (
            f"{user_id}.{int(expiry) + 3600}.{session_id}.{signature}",
            f"usr_other.{expiry}.{session_id}.{signature}",
            f"{token}x",
            "garbage",
        ):
            use_session(server, forged)
            assert (await server.client.get("/api/v1/pipelines")).status_code == 401, forged
        use_session(server, token)
        clock.advance(4)
        assert (await server.client.get("/api/v1/pipelines")).status_code == 200
        clock.advance(1)  # the cookie's expiry (whole seconds) has come
        expired = await server.client.get("/api/v1/pipelines")
        assert expired.status_code == 401
        assert "log in again" in expired.json()["detail"]


async def test_the_session_endpoint_repeats_the_csrf_token(server: TestServer) -> None:
    await add_member(server, "olga@example.com")
    csrf = await login(server, "olga@example.com")

    session = await server.client.get(f"{AUTH}/session")

    assert session.json()["csrf_token"] == csrf
    server.client.cookies.clear()
    assert (await server.client.get(f"{AUTH}/session")).status_code == 401


async def test_the_signing_secret_is_generated_once_and_kept(server: TestServer) -> None:
    ledger = server.runtime.ledger
    stored = await ledger.tenancy.server_secret("session", "another candidate", datetime.now(UTC))

    assert stored != "another candidate"
    assert len(stored) >= 32


async def test_a_password_an_earlier_version_hashed_with_scrypt_is_rehashed_at_login(
    server: TestServer,
) -> None:
    await add_member(server, "olga@example.com")
    tenancy = server.runtime.ledger.tenancy
    user = await tenancy.user_by_email("olga@example.com")
    assert user is not None
    old = scrypt_hash(PASSWORD)
    await tenancy.rehash_password(user.id, user.password_hash, old)
    await login(server, "olga@example.com")  # a session made before the upgrade…
    first = server.client.cookies[COOKIE]
    rehashed = await tenancy.user(user.id)
    assert rehashed is not None and rehashed.password_hash.startswith("$argon2id$")

    server.client.cookies.clear()
    await login(server, "olga@example.com")  # …and the new hash verifies the same password
    again = await tenancy.user(user.id)
    assert again is not None and again.password_hash == rehashed.password_hash  # no rehash
    use_session(server, first)
    assert (await server.client.get("/api/v1/pipelines")).status_code == 200  # still logged in
    server.client.cookies.clear()
    wrong = await server.client.post(
        f"{AUTH}/login", json={"email": "olga@example.com", "password": "not it"}
    )
    assert wrong.status_code == 401
