"""The invitations part of the ledger contract, on every SQL dialect."""

from __future__ import annotations

import dataclasses

import pytest

from pagemill.adapters.sql import SqlLedger
from pagemill.domain.errors import Conflict
from pagemill.domain.invitations import Invitation
from pagemill.domain.teams import Membership, Role, User
from tests.contract.ledger_kit import T0, at, team


def invitation(invitation_id: str, team_id: str, email: str, **changes: object) -> Invitation:
    made = Invitation(invitation_id, team_id, email, Role.MEMBER, T0, at(3600))
    return dataclasses.replace(made, **changes)  # type: ignore[arg-type]


async def user(ledger: SqlLedger, user_id: str, email: str) -> None:
    await ledger.tenancy.create_user(User(user_id, email, user_id, "", T0))


async def test_saved_listed_and_replaced_per_address(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    await ledger.invitations.save(invitation("inv_1", "team_a", "a@x.io"))
    await ledger.invitations.save(invitation("inv_2", "team_a", "b@x.io", created=at(1)))
    again = invitation("inv_3", "team_a", "a@x.io", role=Role.ADMIN, created=at(2))
    await ledger.invitations.save(again)

    pending = await ledger.invitations.of_team("team_a", at(10))
    assert [(i.id, i.role) for i in pending] == [("inv_3", Role.ADMIN), ("inv_2", Role.MEMBER)]
    assert pending[0] == again
    assert await ledger.invitations.of_team("team_a", at(7200)) == []  # expired


async def test_the_addressee_sees_them_with_the_team_name(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    await team(ledger, "team_b")
    await ledger.invitations.save(invitation("inv_1", "team_a", "a@x.io"))
    await ledger.invitations.save(invitation("inv_2", "team_b", "a@x.io", created=at(1)))
    await ledger.invitations.save(invitation("inv_3", "team_b", "other@x.io"))

    received = await ledger.invitations.addressed_to("a@x.io", at(10))

    assert [(r.invitation.id, r.team_name) for r in received] == [
        ("inv_2", "name of team_b"),
        ("inv_1", "name of team_a"),
    ]
    assert await ledger.invitations.addressed_to("a@x.io", at(7200)) == []


async def test_accepting_makes_a_member_once(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    await user(ledger, "usr_a", "a@x.io")
    await ledger.invitations.save(invitation("inv_1", "team_a", "a@x.io", role=Role.ADMIN))

    assert await ledger.invitations.accept("inv_1", "usr_a", "b@x.io", at(5)) is None  # not hers
    assert await ledger.invitations.accept("inv_1", "usr_a", "a@x.io", at(7200)) is None  # late
    joined = await ledger.invitations.accept("inv_1", "usr_a", "a@x.io", at(5))

    assert joined == Membership("usr_a", "team_a", Role.ADMIN, at(5))
    assert await ledger.tenancy.membership("usr_a", "team_a") == joined
    assert await ledger.invitations.accept("inv_1", "usr_a", "a@x.io", at(6)) is None
    assert await ledger.invitations.of_team("team_a", at(6)) == []


async def test_a_member_already_is_a_conflict(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    await user(ledger, "usr_a", "a@x.io")
    await ledger.tenancy.add_membership(Membership("usr_a", "team_a", Role.MEMBER, T0))
    await ledger.invitations.save(invitation("inv_1", "team_a", "a@x.io", role=Role.OWNER))

    with pytest.raises(Conflict):
        await ledger.invitations.accept("inv_1", "usr_a", "a@x.io", at(5))
    membership = await ledger.tenancy.membership("usr_a", "team_a")
    assert membership is not None and membership.role is Role.MEMBER


async def test_withdrawing_and_declining(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    await team(ledger, "team_b")
    first = await ledger.invitations.save(invitation("inv_1", "team_a", "a@x.io"))
    await ledger.invitations.save(invitation("inv_2", "team_a", "b@x.io"))

    assert await ledger.invitations.withdraw("inv_1", "team_b") is None  # another team's
    assert await ledger.invitations.withdraw("inv_1", "team_a") == first
    assert await ledger.invitations.withdraw("inv_1", "team_a") is None
    assert not await ledger.invitations.decline("inv_2", "a@x.io")  # not addressed to a@
    assert await ledger.invitations.decline("inv_2", "b@x.io")
    assert await ledger.invitations.of_team("team_a", at(1)) == []
