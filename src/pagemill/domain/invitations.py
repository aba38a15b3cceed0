"""Invitations: how a person who already has an account joins another team.

An admin cannot add an existing user of another team directly: that would hand over the user's
name and id and put them in a team they never chose. The team invites the address instead; the
user sees the invitation when signed in and accepts (becoming a member with the invited role)
or declines. An invitation is pending until then, or until it expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pagemill.domain.teams import Role

INVITATION_PREFIX = "inv_"


@dataclass(frozen=True, slots=True)
class Invitation:
    id: str
    team_id: str
    email: str  # normalized
    role: Role
    created: datetime
    expires_at: datetime
    invited_by: str | None = None  # the inviting user; None: an operator key


@dataclass(frozen=True, slots=True)
class ReceivedInvitation:
    """An invitation as its addressee sees it: with the name of the team."""

    invitation: Invitation
    team_name: str
