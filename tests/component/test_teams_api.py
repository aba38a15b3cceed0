"""The team admin API: keys and members of ``/api/v1/teams/current``, roles and their limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pagemill.domain.ids import random_base62
from pagemill.domain.models import ApiKey
from pagemill.services.keys import hash_secret
from tests.support.app import TestServer, test_server
from tests.support.processors import test_registry

TEAM = "/api/v1/teams/current"
PASSWORD = "correct horse battery"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    # No key cache: a role change shows at the next request.
    async with test_server(
        tmp_path / "data", test_registry(), key_cache_seconds=0, session_cookie_secure=False
    ) as running:
        yield running


async def add_member(
    server: TestServer, email: str, role: str = "member", team: str = "alpha"
) -> dict[str, Any]:
    response = await server.client.post(
        f"{TEAM}/members",
        json={"email": email, "role": role, "password": PASSWORD},
        headers=server.headers(team),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def join(server: TestServer, email: str, role: str, team: str) -> None:
    """An existing user joins another team the only way there is: invited, then accepting."""
    invited = await server.client.post(
        f"{TEAM}/invitations", json={"email": email, "role": role}, headers=server.headers(team)
    )
    assert invited.status_code == 201, invited.text
    csrf = await login(server, email)
    accepted = await server.client.post(
        f"/api/v1/auth/invitations/{invited.json()['invitation_id']}/accept",
        headers={"X-CSRF-Token": csrf},
    )
    server.client.cookies.clear()
    assert accepted.status_code == 200, accepted.text


async def login(server: TestServer, email: str, password: str = PASSWORD) -> str:
    """Log in (the client keeps the cookie) and return the CSRF token."""
    response = await server.client.post(
        "/api/v1/auth/login", json={"email": email, "password": password}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


async def user_key(server: TestServer, email: str) -> str:
    """A key created through the API by the (admin or owner) user ``email``."""
    csrf = await login(server, email)
    response = await server.client.post(
        f"{TEAM}/keys", json={"name": "mine"}, headers={"X-CSRF-Token": csrf}
    )
    server.client.cookies.clear()
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


async def test_an_operator_key_sees_the_team_and_its_keys(server: TestServer) -> None:
    team = await server.client.get(TEAM, headers=server.headers())
    keys = await server.client.get(f"{TEAM}/keys", headers=server.headers())

    assert team.json()["name"] == "alpha"
    assert team.json()["role"] == "owner"
    [key] = keys.json()["keys"]
    secret = server.keys["alpha"]
    assert key["prefix"] == secret[:15]
    assert key["id"] == "key_" + secret[3:15]
    assert key["created_by"] is None
    assert key["last_used_at"] is not None  # touched by the requests above
    assert secret not in keys.text
    assert set(key) == {
        "id",
        "name",
        "prefix",
        "created_at",
        "created_by",
        "last_used_at",
        "expires_at",
        "revoked_at",
    }


async def test_a_created_key_is_shown_once_works_and_stops_when_revoked(
    server: TestServer,
) -> None:
    created = await server.client.post(
        f"{TEAM}/keys", json={"name": "ci"}, headers=server.headers()
    )
    assert created.status_code == 201
    body = created.json()
    new = {"X-API-Key": body["key"]}
    assert body["prefix"] == body["key"][:15]
    assert (await server.client.get("/api/v1/pipelines", headers=new)).status_code == 200
    listed = await server.client.get(f"{TEAM}/keys", headers=server.headers())
    assert body["key"] not in listed.text
    assert {k["name"] for k in listed.json()["keys"]} == {"default", "ci"}

    revoked = await server.client.delete(f"{TEAM}/keys/{body['id']}", headers=server.headers())

    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    refused = await server.client.get("/api/v1/pipelines", headers=new)
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Invalid API key."}


async def test_another_teams_key_is_not_found_and_keeps_working(server: TestServer) -> None:
    beta_keys = await server.client.get(f"{TEAM}/keys", headers=server.headers("beta"))
    beta_key_id = beta_keys.json()["keys"][0]["id"]

    response = await server.client.delete(f"{TEAM}/keys/{beta_key_id}", headers=server.headers())

    assert response.status_code == 404
    assert response.json() == {"detail": f"API key {beta_key_id} not found."}
    still = await server.client.get("/api/v1/pipelines", headers=server.headers("beta"))
    assert still.status_code == 200


async def test_expired_keys_are_refused(server: TestServer) -> None:
    body = random_base62(12)
    secret = "pm_" + body + random_base62(32)
    team = await server.runtime.ledger.tenancy.team_by_name("alpha")
    assert team is not None
    past = datetime.now(UTC) - timedelta(seconds=1)
    await server.runtime.ledger.tenancy.create_api_key(
        ApiKey("key_" + body, team.id, "old", hash_secret(secret), past, expires_at=past)
    )

    response = await server.client.get("/api/v1/pipelines", headers={"X-API-Key": secret})

    assert response.status_code == 401
    in_past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    refused = await server.client.post(
        f"{TEAM}/keys", json={"name": "x", "expires_at": in_past}, headers=server.headers()
    )
    assert refused.status_code == 422


async def test_last_used_is_written_at_most_once_a_minute(
    server: TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[str] = []
    touch = server.runtime.ledger.tenancy.touch_api_key

    async def counting(key_id: str, now: datetime) -> None:
        writes.append(key_id)
        await touch(key_id, now)

    monkeypatch.setattr(server.runtime.ledger.tenancy, "touch_api_key", counting)
    created = await server.client.post(f"{TEAM}/keys", json={}, headers=server.headers())
    new = {"X-API-Key": created.json()["key"]}

    for _ in range(5):
        assert (await server.client.get("/api/v1/pipelines", headers=new)).status_code == 200

    assert writes.count(created.json()["id"]) == 1


async def test_members_are_added_listed_changed_and_removed(server: TestServer) -> None:
    owner = await add_member(server, "Olga@Example.com", "owner")
    member = await add_member(server, "max@example.com")

    listed = await server.client.get(f"{TEAM}/members", headers=server.headers())
    assert [(m["email"], m["role"]) for m in listed.json()["members"]] == [
        ("olga@example.com", "owner"),
        ("max@example.com", "member"),
    ]
    assert owner["name"] == "olga"
    assert PASSWORD not in listed.text
    again = await server.client.post(
        f"{TEAM}/members", json={"email": "max@example.com"}, headers=server.headers()
    )
    assert again.status_code == 400

    promoted = await server.client.patch(
        f"{TEAM}/members/{member['user_id']}", json={"role": "admin"}, headers=server.headers()
    )
    assert promoted.json()["role"] == "admin"
    removed = await server.client.delete(
        f"{TEAM}/members/{member['user_id']}", headers=server.headers()
    )
    assert removed.status_code == 204
    gone = await server.client.delete(
        f"{TEAM}/members/{member['user_id']}", headers=server.headers()
    )
    assert gone.status_code == 404


async def test_a_team_always_keeps_an_owner(server: TestServer) -> None:
    owner = await add_member(server, "olga@example.com", "owner")
    path = f"{TEAM}/members/{owner['user_id']}"

    demoted = await server.client.patch(path, json={"role": "admin"}, headers=server.headers())
    removed = await server.client.delete(path, headers=server.headers())

    assert (demoted.status_code, removed.status_code) == (400, 400)
    assert demoted.json() == {"detail": "A team must keep at least one owner."}


async def test_the_same_user_can_belong_to_two_teams(server: TestServer) -> None:
    first = await add_member(server, "sam@example.com", "admin")
    await join(server, "sam@example.com", "member", team="beta")

    listed = await server.client.get(f"{TEAM}/members", headers=server.headers("beta"))
    assert [(m["user_id"], m["role"]) for m in listed.json()["members"]] == [
        (first["user_id"], "member")
    ]


async def test_members_may_not_manage_and_admins_may_not_touch_owners(
    server: TestServer,
) -> None:
    owner = await add_member(server, "olga@example.com", "owner")
    admin = await add_member(server, "ada@example.com", "admin")
    admin_key = {"X-API-Key": await user_key(server, "ada@example.com")}

    make_owner = await server.client.post(
        f"{TEAM}/members", json={"email": "new@example.com", "role": "owner"}, headers=admin_key
    )
    drop_owner = await server.client.delete(f"{TEAM}/members/{owner['user_id']}", headers=admin_key)
    added = await server.client.post(
        f"{TEAM}/members", json={"email": "mia@example.com"}, headers=admin_key
    )
    assert (make_owner.status_code, drop_owner.status_code, added.status_code) == (403, 403, 201)

    # The admin's key acts with the admin's current role: demoted, it can no longer manage.
    demoted = await server.client.patch(
        f"{TEAM}/members/{admin['user_id']}", json={"role": "member"}, headers=server.headers()
    )
    assert demoted.status_code == 200
    refused = await server.client.get(f"{TEAM}/keys", headers=admin_key)
    assert refused.status_code == 403
    assert "owners and admins" in refused.json()["detail"]
    assert (await server.client.get("/api/v1/pipelines", headers=admin_key)).status_code == 200
    team = await server.client.get(TEAM, headers=admin_key)
    assert team.json()["role"] == "member"

    # Removed from the team, the user's keys stop working.
    await server.client.delete(f"{TEAM}/members/{admin['user_id']}", headers=server.headers())
    gone = await server.client.get("/api/v1/pipelines", headers=admin_key)
    assert gone.status_code == 401


async def test_the_admin_api_needs_authentication(server: TestServer) -> None:
    for method, path in (("GET", f"{TEAM}/keys"), ("POST", f"{TEAM}/members"), ("GET", TEAM)):
        response = await server.client.request(method, path, json={})
        assert response.status_code == 401, (method, path)


async def test_bad_input_is_a_422(server: TestServer) -> None:
    for body in ({"email": "not-an-email"}, {"email": "a@b.c", "role": "boss"}):
        response = await server.client.post(f"{TEAM}/members", json=body, headers=server.headers())
        assert response.status_code == 422, body
    short = await server.client.post(
        f"{TEAM}/members", json={"email": "a@b.c", "password": "short"}, headers=server.headers()
    )
    assert short.status_code == 422
    assert "password" in short.text


async def test_the_operator_can_also_work_from_test_helpers(tmp_path: Path) -> None:
    async with test_server(tmp_path / "d", test_registry()) as plain:
        response = await plain.client.get(f"{TEAM}/members", headers=plain.headers())
        assert response.json() == {"members": []}
