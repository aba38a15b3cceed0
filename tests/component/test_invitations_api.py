"""Joining another team takes the user's consent: an admin who names an existing account gets
an invitation, not a member; the user accepts or declines it. Plus the role checks that must
not wait for a cache: a demoted admin and a plain member get no admin powers, secrets included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.component.test_teams_api import PASSWORD, TEAM, add_member, login, user_key
from tests.support.app import TestServer, test_server
from tests.support.clock import FakeClock
from tests.support.processors import test_registry

AUTH = "/api/v1/auth"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    # A long key cache: what must not wait for it is tested to not wait for it.
    async with test_server(
        tmp_path / "data", test_registry(), key_cache_seconds=300, session_cookie_secure=False
    ) as running:
        yield running


async def test_adding_another_teams_user_only_invites_them(server: TestServer) -> None:
    created = await server.client.post(  # a user of team alpha
        f"{TEAM}/members",
        json={"email": "vic@example.com", "name": "Victoria Q", "password": PASSWORD},
        headers=server.headers(),
    )
    victim = created.json()
    csrf = await login(server, "vic@example.com")
    before = await server.client.get("/api/v1/pipelines")
    server.client.cookies.clear()

    # The attack: beta's admin adds alpha's user by email.
    added = await server.client.post(
        f"{TEAM}/members", json={"email": "vic@example.com"}, headers=server.headers("beta")
    )

    assert added.status_code == 202, added.text
    body = added.json()
    assert set(body) == {"invitation_id", "email", "role", "invited_by", "created_at", "expires_at"}
    assert victim["user_id"] not in added.text and victim["name"] not in added.text
    members = await server.client.get(f"{TEAM}/members", headers=server.headers("beta"))
    assert members.json()["members"] == []
    # The victim's session is untouched: still one team, no "several teams" error.
    await login(server, "vic@example.com")
    after = await server.client.get("/api/v1/pipelines")
    assert (before.status_code, after.status_code) == (200, 200)
    assert csrf


async def test_the_invited_user_sees_and_accepts_or_declines(server: TestServer) -> None:
    await add_member(server, "vic@example.com", "member")
    first = await server.client.post(
        f"{TEAM}/invitations",
        json={"email": "VIC@example.com", "role": "admin"},
        headers=server.headers("beta"),
    )
    assert first.status_code == 201
    csrf = {"X-CSRF-Token": await login(server, "vic@example.com")}

    received = await server.client.get(f"{AUTH}/invitations")
    [item] = received.json()["invitations"]
    assert (item["team"]["name"], item["role"]) == ("beta", "admin")
    no_csrf = await server.client.post(f"{AUTH}/invitations/{item['invitation_id']}/accept")
    accepted = await server.client.post(
        f"{AUTH}/invitations/{item['invitation_id']}/accept", headers=csrf
    )
    again = await server.client.post(
        f"{AUTH}/invitations/{item['invitation_id']}/accept", headers=csrf
    )

    assert no_csrf.status_code == 403
    assert accepted.status_code == 200 and accepted.json()["role"] == "admin"
    assert again.status_code == 404
    session = await server.client.get(f"{AUTH}/session")
    assert [t["name"] for t in session.json()["teams"]] == ["alpha", "beta"]

    # Declining: the invitation is gone, the user joins nothing.
    server.client.cookies.clear()
    gamma = await server.services.keys.issue("gamma")
    invited = await server.client.post(
        f"{TEAM}/invitations",
        json={"email": "vic@example.com"},
        headers={"X-API-Key": gamma.secret},
    )
    csrf = {"X-CSRF-Token": await login(server, "vic@example.com")}
    declined = await server.client.post(
        f"{AUTH}/invitations/{invited.json()['invitation_id']}/decline", headers=csrf
    )
    assert declined.status_code == 204
    assert (await server.client.get(f"{AUTH}/invitations")).json()["invitations"] == []
    session = await server.client.get(f"{AUTH}/session")
    assert [t["name"] for t in session.json()["teams"]] == ["alpha", "beta"]


async def test_nobody_else_can_answer_an_invitation(server: TestServer) -> None:
    await add_member(server, "vic@example.com", "member")
    await add_member(server, "eve@example.com", "member")
    invited = await server.client.post(
        f"{TEAM}/invitations", json={"email": "vic@example.com"}, headers=server.headers("beta")
    )
    invitation_id = invited.json()["invitation_id"]
    csrf = {"X-CSRF-Token": await login(server, "eve@example.com")}

    listed = await server.client.get(f"{AUTH}/invitations")
    accept = await server.client.post(f"{AUTH}/invitations/{invitation_id}/accept", headers=csrf)
    decline = await server.client.post(f"{AUTH}/invitations/{invitation_id}/decline", headers=csrf)
    server.client.cookies.clear()
    with_a_key = await server.client.post(
        f"{AUTH}/invitations/{invitation_id}/accept", headers=server.headers("alpha")
    )

    assert listed.json()["invitations"] == []
    assert (accept.status_code, decline.status_code, with_a_key.status_code) == (404, 404, 401)
    pending = await server.client.get(f"{TEAM}/invitations", headers=server.headers("beta"))
    assert [i["invitation_id"] for i in pending.json()["invitations"]] == [invitation_id]


async def test_invitations_expire_and_can_be_withdrawn(tmp_path: Path) -> None:
    clock = FakeClock()
    async with test_server(
        tmp_path / "d",
        test_registry(),
        clock=clock,
        invitation_ttl_seconds=60,
        session_cookie_secure=False,
    ) as server:
        await add_member(server, "vic@example.com", "member")
        beta = server.headers("beta")
        old = await server.client.post(
            f"{TEAM}/invitations", json={"email": "vic@example.com"}, headers=beta
        )
        clock.advance(59)
        still = await server.client.get(f"{TEAM}/invitations", headers=beta)
        assert len(still.json()["invitations"]) == 1
        clock.advance(2)  # the invitation's lifetime is over
        csrf = {"X-CSRF-Token": await login(server, "vic@example.com")}
        expired = await server.client.post(
            f"{AUTH}/invitations/{old.json()['invitation_id']}/accept", headers=csrf
        )
        server.client.cookies.clear()
        listed = await server.client.get(f"{TEAM}/invitations", headers=beta)

        assert expired.status_code == 404
        assert listed.json() == {"invitations": []}


async def test_a_withdrawn_invitation_cannot_be_accepted(server: TestServer) -> None:
    await add_member(server, "vic@example.com", "member")
    beta = server.headers("beta")
    invited = await server.client.post(
        f"{TEAM}/invitations", json={"email": "vic@example.com"}, headers=beta
    )
    invitation_id = invited.json()["invitation_id"]

    withdrawn = await server.client.delete(f"{TEAM}/invitations/{invitation_id}", headers=beta)
    twice = await server.client.delete(f"{TEAM}/invitations/{invitation_id}", headers=beta)
    csrf = {"X-CSRF-Token": await login(server, "vic@example.com")}
    accepted = await server.client.post(f"{AUTH}/invitations/{invitation_id}/accept", headers=csrf)

    assert (withdrawn.status_code, twice.status_code, accepted.status_code) == (204, 404, 404)


async def test_managers_only_and_admins_cannot_invite_owners(server: TestServer) -> None:
    await add_member(server, "ada@example.com", "admin")
    await add_member(server, "mo@example.com", "member")
    admin = {"X-API-Key": await user_key(server, "ada@example.com")}
    invite_owner = await server.client.post(
        f"{TEAM}/invitations", json={"email": "x@example.com", "role": "owner"}, headers=admin
    )
    member_csrf = {"X-CSRF-Token": await login(server, "mo@example.com")}
    by_member = await server.client.post(
        f"{TEAM}/invitations", json={"email": "x@example.com"}, headers=member_csrf
    )
    server.client.cookies.clear()
    existing = await server.client.post(
        f"{TEAM}/invitations", json={"email": "mo@example.com"}, headers=server.headers()
    )
    assert (invite_owner.status_code, by_member.status_code) == (403, 403)
    assert existing.status_code == 400 and "already a member" in existing.json()["detail"]


async def test_a_plain_member_cannot_read_the_webhook_secret(server: TestServer) -> None:
    await add_member(server, "mo@example.com", "member")
    csrf = {"X-CSRF-Token": await login(server, "mo@example.com")}

    read = await server.client.get(f"{TEAM}/webhook-secret")
    rotate = await server.client.post(f"{TEAM}/webhook-secret", headers=csrf)
    server.client.cookies.clear()
    owner = await server.client.get(f"{TEAM}/webhook-secret", headers=server.headers())

    assert (read.status_code, rotate.status_code) == (403, 403)
    assert "whsec_" not in read.text
    assert owner.status_code == 200 and owner.json()["secret"].startswith("whsec_")


async def test_a_demoted_admin_loses_admin_rights_at_once(server: TestServer) -> None:
    admin = await add_member(server, "ada@example.com", "admin")
    key = {"X-API-Key": await user_key(server, "ada@example.com")}
    assert (await server.client.get(f"{TEAM}/keys", headers=key)).status_code == 200  # cached

    demoted = await server.client.patch(
        f"{TEAM}/members/{admin['user_id']}", json={"role": "member"}, headers=server.headers()
    )
    # The attack: use the cached admin key right after the demotion (the cache lasts 300 s).
    keys = await server.client.get(f"{TEAM}/keys", headers=key)
    mint = await server.client.post(f"{TEAM}/keys", json={"name": "x"}, headers=key)
    secret = await server.client.get(f"{TEAM}/webhook-secret", headers=key)
    role = await server.client.get(TEAM, headers=key)

    assert demoted.status_code == 200
    assert (keys.status_code, mint.status_code, secret.status_code) == (403, 403, 403)
    assert role.json()["role"] == "member"  # this process's cache learnt it too


async def test_on_another_replica_the_role_is_read_fresh_for_admin_actions(
    server: TestServer,
) -> None:
    admin = await add_member(server, "ada@example.com", "admin")
    key = {"X-API-Key": await user_key(server, "ada@example.com")}
    assert (await server.client.get(f"{TEAM}/keys", headers=key)).status_code == 200
    team = await server.client.get(TEAM, headers=server.headers())
    # Demoted through the ledger directly, as another API replica would: this process's key
    # cache still says "admin" for up to 300 s.
    await server.runtime.ledger.tenancy.change_membership(team.json()["id"], admin["user_id"], None)

    still_cached = await server.client.get("/api/v1/pipelines", headers=key)
    keys = await server.client.get(f"{TEAM}/keys", headers=key)

    assert still_cached.status_code == 200  # member-level access: within the cache window
    assert keys.status_code == 403 and "no longer a member" in keys.json()["detail"]
