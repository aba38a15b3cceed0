"""Teams, users and memberships: create teams, add people with a role, change or remove them.

Every method that manages a team takes the ``actor``'s role in that team; the team itself is
always the caller's own (``teams/current``), so another team's member is not found, never
forbidden. A team always keeps at least one owner (the ledger enforces it atomically).

Through the API a team's managers add new people (an account is created) but only *invite*
people who have an account already (``add_or_invite``): they join when they accept. The
operator's ``add_member`` (the CLI) adds anyone directly.
"""

from __future__ import annotations

from collections.abc import Callable

from pagemill.domain.clock import Clock
from pagemill.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from pagemill.domain.ids import TEAM_PREFIX, has_prefix, new_id
from pagemill.domain.invitations import Invitation
from pagemill.domain.models import Team
from pagemill.domain.teams import (
    USER_PREFIX,
    Member,
    Membership,
    Role,
    User,
    check_password,
    may_assign,
    normalize_email,
)
from pagemill.ports.ledger.tenancy import TenancyLedger
from pagemill.services.authz import require_manager
from pagemill.services.invitations import InvitationService
from pagemill.services.keys import check_team_name
from pagemill.services.passwords import hash_password_async


class TeamService:
    def __init__(
        self,
        tenancy: TenancyLedger,
        clock: Clock,
        *,
        invitations: InvitationService | None = None,
        on_membership_change: Callable[[str], None] | None = None,
    ) -> None:
        """``invitations`` (needed by ``add_or_invite``) invites addresses that have an
        account; ``on_membership_change(user_id)`` is told when a member's role changed or they
        left (caches of their keys and sessions drop what they knew of the role)."""
        self._tenancy = tenancy
        self._clock = clock
        self._invitations = invitations
        self._changed = on_membership_change

    # -- teams -------------------------------------------------------------------------------
    async def create_team(self, name: str) -> Team:
        team_name = check_team_name(name)
        if await self._tenancy.team_by_name(team_name) is not None:
            raise Conflict(f"A team named {team_name!r} already exists.")
        return await self._tenancy.create_team(new_id(TEAM_PREFIX), team_name, self._clock.now())

    async def list_teams(self) -> list[Team]:
        return await self._tenancy.list_teams()

    async def team(self, team_id: str) -> Team:
        team = await self._tenancy.team(team_id)
        if team is None:
            raise NotFound("Team not found.")
        return team

    async def find_team(self, selector: str) -> Team | None:
        """The team with this id, or else this name."""
        value = selector.strip()
        if not value or len(value) > 200:
            return None
        if has_prefix(value, TEAM_PREFIX):
            team = await self._tenancy.team(value)
            if team is not None:
                return team
        return await self._tenancy.team_by_name(value)

    async def team_named(self, selector: str) -> Team:
        team = await self.find_team(selector)
        if team is None:
            raise NotFound(f"Team {selector!r} not found.")
        return team

    async def user_teams(self, user_id: str) -> list[tuple[Team, Role]]:
        return await self._tenancy.user_teams(user_id)

    # -- users -------------------------------------------------------------------------------
    async def user(self, user_id: str) -> User:
        user = await self._tenancy.user(user_id)
        if user is None:
            raise NotFound(f"User {user_id} not found.")
        return user

    async def create_user(self, email: str, name: str | None, password: str | None) -> User:
        """A new user; without a password the user exists but cannot log in yet."""
        address = normalize_email(email)
        display = (name or "").strip() or address.split("@", 1)[0]
        if len(display) > 200:
            raise InvalidInput("A name must have at most 200 characters.")
        password_hash = (
            await hash_password_async(check_password(password)) if password is not None else ""
        )
        user = User(
            id=new_id(USER_PREFIX),
            email=address,
            name=display,
            password_hash=password_hash,
            created=self._clock.now(),
        )
        await self._tenancy.create_user(user)
        return user

    async def user_exists(self, email: str) -> bool:
        return await self._tenancy.user_by_email(normalize_email(email)) is not None

    # -- members -----------------------------------------------------------------------------
    async def members(self, team_id: str, *, actor: Role) -> list[Member]:
        require_manager(actor)
        return await self._tenancy.team_members(team_id)

    async def add_member(
        self,
        team_id: str,
        email: str,
        role: Role,
        *,
        actor: Role,
        name: str | None = None,
        password: str | None = None,
    ) -> tuple[Member, bool]:
        """Add the user with this email (created when unknown) to the team.

        Returns the member and whether the user was created. ``password`` only applies to a
        new user: nobody sets another existing user's password this way.
        """
        require_manager(actor)
        if not may_assign(actor, None, role):
            raise Forbidden("Only owners can make someone an owner.")
        user = await self._tenancy.user_by_email(normalize_email(email))
        created = user is None
        if user is None:
            user = await self.create_user(email, name, password)
        if await self._tenancy.membership(user.id, team_id) is not None:
            raise Conflict(f"{user.email} is already a member of this team.")
        now = self._clock.now()
        await self._tenancy.add_membership(Membership(user.id, team_id, role, now))
        member = Member(user.id, user.email, user.name, role, now, user.disabled)
        return member, created

    async def add_or_invite(
        self,
        team_id: str,
        email: str,
        role: Role,
        *,
        actor: Role,
        invited_by: str | None,
        name: str | None = None,
        password: str | None = None,
    ) -> Member | Invitation:
        """A new address becomes a new user and member; an address that has an account
        already is invited instead (nothing about that account is returned)."""
        require_manager(actor)
        if not may_assign(actor, None, role):
            raise Forbidden("Only owners can make someone an owner.")
        address = normalize_email(email)
        if await self._tenancy.user_by_email(address) is not None:
            if self._invitations is None:
                raise Conflict(f"{address} has an account: it can only be invited.")
            return await self._invitations.invite(
                team_id, address, role, actor=actor, invited_by=invited_by
            )
        # An account created for the same address meanwhile makes this insert fail (the
        # address is unique): an existing account is never added without its consent.
        user = await self.create_user(address, name, password)
        now = self._clock.now()
        await self._tenancy.add_membership(Membership(user.id, team_id, role, now))
        return Member(user.id, user.email, user.name, role, now, user.disabled)

    async def role_of(self, user_id: str, team_id: str) -> Role:
        """The user's role in the team as the ledger has it now (no cache); ``Forbidden`` when
        they are no longer a member."""
        membership = await self._tenancy.membership(user_id, team_id)
        if membership is None:
            raise Forbidden("You are no longer a member of this team.")
        return membership.role

    async def change_role(self, team_id: str, user_id: str, role: Role, *, actor: Role) -> Member:
        await self._authorize_change(team_id, user_id, role, actor)
        if await self._tenancy.change_membership(team_id, user_id, role) is None:
            raise NotFound(f"Member {user_id} not found.")
        self._notify(user_id)
        return await self._member(team_id, user_id)

    async def remove_member(self, team_id: str, user_id: str, *, actor: Role) -> None:
        await self._authorize_change(team_id, user_id, None, actor)
        if await self._tenancy.change_membership(team_id, user_id, None) is None:
            raise NotFound(f"Member {user_id} not found.")
        self._notify(user_id)

    def _notify(self, user_id: str) -> None:
        if self._changed is not None:
            self._changed(user_id)

    async def _authorize_change(
        self, team_id: str, user_id: str, wanted: Role | None, actor: Role
    ) -> None:
        require_manager(actor)
        current = await self._tenancy.membership(user_id, team_id)
        if current is None:
            raise NotFound(f"Member {user_id} not found.")
        if not may_assign(actor, current.role, wanted):
            raise Forbidden("Only owners can change or remove an owner, or make one.")

    async def _member(self, team_id: str, user_id: str) -> Member:
        for member in await self._tenancy.team_members(team_id):
            if member.user_id == user_id:
                return member
        raise NotFound(f"Member {user_id} not found.")
