"""The tenancy part of the ledger contract (teams, users, members, keys, sessions, secrets),
on every SQL dialect."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from pagemill.adapters.sql import SqlLedger
from pagemill.domain.errors import Conflict
from pagemill.domain.models import ApiKey
from pagemill.domain.teams import Membership, Role, Session, User

T0 = datetime(2025, 5, 1, 8, 0, 0, 500000, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def user(user_id: str, email: str | None = None) -> User:
    return User(user_id, email or f"{user_id}@example.com", f"Name {user_id}", "scrypt$x", T0)


def key(key_id: str, team_id: str, created: datetime = T0, **kw: object) -> ApiKey:
    return ApiKey(
        id=key_id,
        team_id=team_id,
        name=f"label {key_id}",
        key_hash=f"hash-{key_id}",
        created=created,
        prefix="pm_" + key_id[4:],
        **kw,  # type: ignore[arg-type]
    )


async def setup(ledger: SqlLedger) -> None:
    for team_id, name in (("team_a", "Alpha"), ("team_b", "Beta")):
        await ledger.tenancy.create_team(team_id, name, T0)
    for user_id in ("usr_1", "usr_2", "usr_3"):
        await ledger.tenancy.create_user(user(user_id))


async def test_teams_by_id_and_listed_by_name(ledger: SqlLedger) -> None:
    await setup(ledger)

    team = await ledger.tenancy.team("team_b")

    assert team is not None
    assert (team.id, team.name, team.created) == ("team_b", "Beta", T0)
    assert await ledger.tenancy.team("team_x") is None
    assert [t.name for t in await ledger.tenancy.list_teams()] == ["Alpha", "Beta"]


async def test_users_round_trip_and_emails_are_unique(ledger: SqlLedger) -> None:
    await setup(ledger)

    found = await ledger.tenancy.user_by_email("usr_1@example.com")

    assert found == user("usr_1")
    assert await ledger.tenancy.user("usr_1") == found
    assert await ledger.tenancy.user("usr_9") is None
    assert await ledger.tenancy.user_by_email("nobody@example.com") is None
    with pytest.raises(Conflict):
        await ledger.tenancy.create_user(user("usr_9", email="usr_1@example.com"))


async def test_memberships_list_per_team_and_per_user(ledger: SqlLedger) -> None:
    await setup(ledger)
    await ledger.tenancy.add_membership(Membership("usr_1", "team_a", Role.OWNER, T0))
    await ledger.tenancy.add_membership(Membership("usr_2", "team_a", Role.MEMBER, at(1)))
    await ledger.tenancy.add_membership(Membership("usr_1", "team_b", Role.ADMIN, at(2)))

    members = await ledger.tenancy.team_members("team_a")

    assert [(m.user_id, m.email, m.role, m.created) for m in members] == [
        ("usr_1", "usr_1@example.com", Role.OWNER, T0),
        ("usr_2", "usr_2@example.com", Role.MEMBER, at(1)),
    ]
    assert [(t.id, r) for t, r in await ledger.tenancy.user_teams("usr_1")] == [
        ("team_a", Role.OWNER),
        ("team_b", Role.ADMIN),
    ]
    assert await ledger.tenancy.membership("usr_2", "team_b") is None
    assert await ledger.tenancy.membership("usr_1", "team_b") == Membership(
        "usr_1", "team_b", Role.ADMIN, at(2)
    )
    with pytest.raises(Conflict):
        await ledger.tenancy.add_membership(Membership("usr_2", "team_a", Role.ADMIN, at(3)))


async def test_a_team_keeps_at_least_one_owner(ledger: SqlLedger) -> None:
    await setup(ledger)
    await ledger.tenancy.add_membership(Membership("usr_1", "team_a", Role.OWNER, T0))
    await ledger.tenancy.add_membership(Membership("usr_2", "team_a", Role.MEMBER, T0))

    with pytest.raises(Conflict):
        await ledger.tenancy.change_membership("team_a", "usr_1", Role.ADMIN)
    with pytest.raises(Conflict):
        await ledger.tenancy.change_membership("team_a", "usr_1", None)
    promoted = await ledger.tenancy.change_membership("team_a", "usr_2", Role.OWNER)
    demoted = await ledger.tenancy.change_membership("team_a", "usr_1", Role.MEMBER)
    removed = await ledger.tenancy.change_membership("team_a", "usr_1", None)

    assert promoted == Membership("usr_2", "team_a", Role.OWNER, T0)
    assert demoted == Membership("usr_1", "team_a", Role.MEMBER, T0)
    assert removed == demoted
    assert [m.user_id for m in await ledger.tenancy.team_members("team_a")] == ["usr_2"]
    assert await ledger.tenancy.change_membership("team_a", "usr_1", Role.ADMIN) is None
    assert await ledger.tenancy.change_membership("team_b", "usr_2", None) is None


async def test_two_owners_cannot_demote_each_other_at_once(ledger: SqlLedger) -> None:
    await setup(ledger)
    await ledger.tenancy.add_membership(Membership("usr_1", "team_a", Role.OWNER, T0))
    await ledger.tenancy.add_membership(Membership("usr_2", "team_a", Role.OWNER, T0))

    outcomes = await asyncio.gather(
        ledger.tenancy.change_membership("team_a", "usr_1", Role.MEMBER),
        ledger.tenancy.change_membership("team_a", "usr_2", Role.MEMBER),
        return_exceptions=True,
    )

    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "Membership"]
    owners = [m for m in await ledger.tenancy.team_members("team_a") if m.role is Role.OWNER]
    assert len(owners) == 1


async def test_keys_are_listed_and_revoked_per_team(ledger: SqlLedger) -> None:
    await setup(ledger)
    await ledger.tenancy.create_api_key(key("key_old", "team_a", T0, created_by="usr_1"))
    await ledger.tenancy.create_api_key(key("key_new", "team_a", at(5), expires_at=at(99)))
    await ledger.tenancy.create_api_key(key("key_bee", "team_b"))

    listed = await ledger.tenancy.list_api_keys("team_a")

    assert [k.id for k in listed] == ["key_new", "key_old"]
    assert (listed[1].prefix, listed[1].created_by) == ("pm_old", "usr_1")
    assert (listed[0].created_by, listed[0].expires_at) == (None, at(99))
    assert await ledger.tenancy.revoke_api_key("team_b", "key_old", at(10)) is None
    revoked = await ledger.tenancy.revoke_api_key("team_a", "key_old", at(10))
    again = await ledger.tenancy.revoke_api_key("team_a", "key_old", at(20))
    assert revoked is not None
    assert again is not None
    assert revoked.revoked_at == again.revoked_at == at(10)
    stored = await ledger.tenancy.api_key("key_old")
    assert stored is not None
    assert stored.revoked_at == at(10)
    bee = await ledger.tenancy.api_key("key_bee")
    assert bee is not None
    assert bee.revoked_at is None


async def test_sessions_end_on_delete_expiry_and_password_change(ledger: SqlLedger) -> None:
    await setup(ledger)
    await ledger.tenancy.create_session(Session("s_one", "usr_1", T0, at(3600)))
    await ledger.tenancy.create_session(Session("s_two", "usr_1", T0, at(7200)))
    await ledger.tenancy.create_session(Session("s_old", "usr_2", T0, at(10)))
    await ledger.tenancy.create_session(Session("s_other", "usr_3", T0, at(7200)))

    assert await ledger.tenancy.session("s_one") == Session("s_one", "usr_1", T0, at(3600))
    await ledger.tenancy.delete_session("s_one")
    assert await ledger.tenancy.session("s_one") is None
    assert await ledger.tenancy.delete_expired_sessions(at(11)) == 1
    assert await ledger.tenancy.session("s_old") is None
    assert await ledger.tenancy.set_password("usr_1", "scrypt$new") is True
    assert await ledger.tenancy.session("s_two") is None
    assert await ledger.tenancy.session("s_other") is not None
    changed = await ledger.tenancy.user("usr_1")
    assert changed is not None
    assert changed.password_hash == "scrypt$new"
    assert await ledger.tenancy.set_password("usr_9", "scrypt$new") is False


async def test_a_rehash_keeps_sessions_and_never_overwrites_a_change(ledger: SqlLedger) -> None:
    await setup(ledger)
    await ledger.tenancy.set_password("usr_1", "scrypt$old")
    await ledger.tenancy.create_session(Session("s_one", "usr_1", T0, at(3600)))

    assert await ledger.tenancy.rehash_password("usr_1", "scrypt$old", "$argon2id$new") is True
    assert await ledger.tenancy.session("s_one") is not None  # the user stays logged in
    rehashed = await ledger.tenancy.user("usr_1")
    assert rehashed is not None and rehashed.password_hash == "$argon2id$new"
    # A password change (or another login's rehash) got there first: it is kept.
    assert await ledger.tenancy.rehash_password("usr_1", "scrypt$old", "$argon2id$x") is False
    kept = await ledger.tenancy.user("usr_1")
    assert kept is not None and kept.password_hash == "$argon2id$new"
    assert await ledger.tenancy.rehash_password("usr_9", "scrypt$old", "$argon2id$x") is False


async def test_a_server_secret_is_generated_once(ledger: SqlLedger) -> None:
    first, second = await asyncio.gather(
        ledger.tenancy.server_secret("session", "candidate-one", T0),
        ledger.tenancy.server_secret("session", "candidate-two", T0),
    )
    later = await ledger.tenancy.server_secret("session", "candidate-three", at(60))

    assert first == second == later
    assert first in ("candidate-one", "candidate-two")
    assert await ledger.tenancy.server_secret("other", "x" * 64, T0) == "x" * 64
