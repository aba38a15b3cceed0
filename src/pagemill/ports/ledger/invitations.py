"""The ledger's invitations area: invitations of an address to a team (``domain.invitations``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from pagemill.domain.invitations import Invitation, ReceivedInvitation
from pagemill.domain.teams import Membership


class InvitationLedger(ABC):
    @abstractmethod
    async def save(self, invitation: Invitation) -> Invitation:
        """Store the invitation; one of the same team and address replaces the previous one
        (a new role, a new expiry)."""

    @abstractmethod
    async def of_team(self, team_id: str, now: datetime) -> list[Invitation]:
        """The team's pending invitations (not expired), newest first."""

    @abstractmethod
    async def withdraw(self, invitation_id: str, team_id: str) -> Invitation | None:
        """Withdraw one of the team's invitations; None when it is not the team's."""

    @abstractmethod
    async def addressed_to(self, email: str, now: datetime) -> list[ReceivedInvitation]:
        """The pending invitations addressed to ``email`` (normalized), newest first."""

    @abstractmethod
    async def accept(
        self, invitation_id: str, user_id: str, email: str, now: datetime
    ) -> Membership | None:
        """Make the user a member of the invitation's team with its role and remove the
        invitation, in one transaction. None when no pending invitation with this id is
        addressed to ``email``; ``Conflict`` when the user is a member of the team already."""

    @abstractmethod
    async def decline(self, invitation_id: str, email: str) -> bool:
        """Remove a pending invitation addressed to ``email``; False when there is none."""
