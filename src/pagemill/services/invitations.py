"""Invitations to a team: sent by its owners and admins, answered by the invited user.

A team's managers invite an address with a role (an admin cannot invite an owner); the person
with that address, signed in, sees the invitation with the team's name and accepts it (joining
with the role) or declines it. Nothing about the person — whether they have an account, their
name, their id — is shown to the team before they accept.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from pagemill.domain.clock import Clock
from pagemill.domain.errors import Conflict, Forbidden, NotFound
from pagemill.domain.ids import new_id
from pagemill.domain.invitations import INVITATION_PREFIX, Invitation, ReceivedInvitation
from pagemill.domain.teams import Membership, Role, may_assign, normalize_email
from pagemill.ports.ledger.invitations import InvitationLedger
from pagemill.ports.ledger.tenancy import TenancyLedger
from pagemill.services.authz import require_manager

DEFAULT_TTL_SECONDS = 7 * 86400.0


class InvitationService:
    def __init__(
        self,
        invitations: InvitationLedger,
        tenancy: TenancyLedger,
        clock: Clock,
        *,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        on_joined: Callable[[str], None] | None = None,
    ) -> None:
        """``on_joined(user_id)`` is told when a user joined a team (their cached sessions
        then learn of it at once)."""
        self._invitations = invitations
        self._tenancy = tenancy
        self._clock = clock
        self._ttl = timedelta(seconds=ttl_seconds)
        self._on_joined = on_joined

    # -- the team's side ---------------------------------------------------------------------
    async def invite(
        self, team_id: str, email: str, role: Role, *, actor: Role, invited_by: str | None
    ) -> Invitation:
        require_manager(actor)
        if not may_assign(actor, None, role):
            raise Forbidden("Only owners can invite someone as an owner.")
        address = normalize_email(email)
        user = await self._tenancy.user_by_email(address)
        if user is not None and await self._tenancy.membership(user.id, team_id) is not None:
            raise Conflict(f"{address} is already a member of this team.")
        now = self._clock.now()
        return await self._invitations.save(
            Invitation(
                id=new_id(INVITATION_PREFIX),
                team_id=team_id,
                email=address,
                role=role,
                created=now,
                expires_at=now + self._ttl,
                invited_by=invited_by,
            )
        )

    async def pending(self, team_id: str, *, actor: Role) -> list[Invitation]:
        require_manager(actor)
        return await self._invitations.of_team(team_id, self._clock.now())

    async def withdraw(self, team_id: str, invitation_id: str, *, actor: Role) -> Invitation:
        require_manager(actor)
        found = await self._invitations.of_team(team_id, self._clock.now())
        target = next((i for i in found if i.id == invitation_id), None)
        if target is not None and not may_assign(actor, None, target.role):
            raise Forbidden("Only owners can withdraw an invitation to become an owner.")
        withdrawn = await self._invitations.withdraw(invitation_id, team_id)
        if withdrawn is None:
            raise NotFound(f"Invitation {invitation_id} not found.")
        return withdrawn

    # -- the invited user's side -------------------------------------------------------------
    async def received(self, user_id: str) -> list[ReceivedInvitation]:
        return await self._invitations.addressed_to(await self._email(user_id), self._clock.now())

    async def accept(self, user_id: str, invitation_id: str) -> Membership:
        email = await self._email(user_id)
        membership = await self._invitations.accept(
            invitation_id, user_id, email, self._clock.now()
        )
        if membership is None:
            raise NotFound(f"Invitation {invitation_id} not found or expired.")
        if self._on_joined is not None:
            self._on_joined(user_id)
        return membership

    async def decline(self, user_id: str, invitation_id: str) -> None:
        if not await self._invitations.decline(invitation_id, await self._email(user_id)):
            raise NotFound(f"Invitation {invitation_id} not found.")

    async def _email(self, user_id: str) -> str:
        user = await self._tenancy.user(user_id)
        if user is None:
            raise NotFound(f"User {user_id} not found.")
        return user.email
