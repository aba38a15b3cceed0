"""The ledger's tenancy area: teams, API keys, users and memberships, sessions, and the
server's own secrets.

Everything team-owned takes the team: another team's key or member is simply not found.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from pagemill.domain.models import ApiKey, Team
from pagemill.domain.teams import Member, Membership, Role, Session, User


class TenancyLedger(ABC):
    # -- teams -------------------------------------------------------------------------------
    @abstractmethod
    async def create_team(self, team_id: str, name: str, now: datetime) -> Team: ...

    @abstractmethod
    async def team(self, team_id: str) -> Team | None: ...

    @abstractmethod
    async def team_by_name(self, name: str) -> Team | None: ...

    @abstractmethod
    async def count_teams(self) -> int: ...

    @abstractmethod
    async def list_teams(self) -> list[Team]:
        """Every team, by name."""

    @abstractmethod
    async def set_team_retention(self, team_id: str, seconds: int | None) -> bool:
        """Set the team's retention of results (None: the server's); False: no such team."""

    # -- users -------------------------------------------------------------------------------
    @abstractmethod
    async def create_user(self, user: User) -> None:
        """Insert the user; ``Conflict`` when the email is taken."""

    @abstractmethod
    async def user(self, user_id: str) -> User | None: ...

    @abstractmethod
    async def user_by_email(self, email: str) -> User | None:
        """``email`` in its normalized (lower-case) form."""

    @abstractmethod
    async def set_password(self, user_id: str, password_hash: str) -> bool:
        """Replace the password and end every session of the user, atomically.

        False when the user does not exist.
        """

    @abstractmethod
    async def rehash_password(self, user_id: str, old_hash: str, new_hash: str) -> bool:
        """Store ``new_hash`` (the same password, hashed anew) where the user's hash is still
        ``old_hash``; sessions stay. False when it changed meanwhile, or the user is gone."""

    # -- memberships -------------------------------------------------------------------------
    @abstractmethod
    async def add_membership(self, membership: Membership) -> None:
        """``Conflict`` when the user already belongs to the team."""

    @abstractmethod
    async def membership(self, user_id: str, team_id: str) -> Membership | None: ...

    @abstractmethod
    async def user_teams(self, user_id: str) -> list[tuple[Team, Role]]:
        """The teams the user belongs to, with the user's role in each, by team name."""

    @abstractmethod
    async def team_members(self, team_id: str) -> list[Member]:
        """The team's members, oldest membership first."""

    @abstractmethod
    async def change_membership(
        self, team_id: str, user_id: str, role: Role | None
    ) -> Membership | None:
        """Give the member ``role``, or remove them from the team when ``role`` is None.

        None when the user is not a member of the team. Raises ``Conflict`` (and changes
        nothing) when the change would leave the team without an owner; concurrent changes
        are serialized per team, so two owners cannot demote each other at once.
        """

    # -- api keys ----------------------------------------------------------------------------
    @abstractmethod
    async def create_api_key(self, key: ApiKey) -> None: ...

    @abstractmethod
    async def api_key(self, key_id: str) -> ApiKey | None:
        """Read on every authentication that misses the key cache: a prepared point read."""

    @abstractmethod
    async def touch_api_key(self, key_id: str, now: datetime) -> None:
        """Record the last use (bookkeeping: one statement, off the request path)."""

    @abstractmethod
    async def list_api_keys(self, team_id: str) -> list[ApiKey]:
        """The team's keys, revoked ones included, newest first."""

    @abstractmethod
    async def revoke_api_key(self, team_id: str, key_id: str, now: datetime) -> ApiKey | None:
        """Set ``revoked_at`` (once: revoking again keeps the first time); None when the key
        does not exist for the team."""

    # -- sessions ----------------------------------------------------------------------------
    @abstractmethod
    async def create_session(self, session: Session) -> None: ...

    @abstractmethod
    async def session(self, session_id: str) -> Session | None: ...

    @abstractmethod
    async def delete_session(self, session_id: str) -> None: ...

    @abstractmethod
    async def delete_expired_sessions(self, now: datetime) -> int:
        """Drop sessions that expired before ``now``; returns how many."""

    # -- server secrets ----------------------------------------------------------------------
    @abstractmethod
    async def server_secret(self, name: str, candidate: str, now: datetime) -> str:
        """The stored secret ``name``; stores ``candidate`` first when there is none yet.

        Concurrent first starts agree: exactly one candidate wins and everyone reads it.
        """
