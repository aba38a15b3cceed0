"""Team invitations in the SQL ledger: saved, listed, withdrawn, accepted or declined."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pagemill.adapters.sql.database import Database, from_db, to_db
from pagemill.adapters.sql.tables import memberships, team_invitations, teams
from pagemill.domain.errors import Conflict
from pagemill.domain.invitations import Invitation, ReceivedInvitation
from pagemill.domain.teams import Membership, Role
from pagemill.ports.ledger.invitations import InvitationLedger

_T = team_invitations


def invitation_from(row: sa.Row[Any]) -> Invitation:
    m = row._mapping
    return Invitation(
        id=m[_T.c.id],
        team_id=m[_T.c.team_id],
        email=m[_T.c.email],
        role=Role(m[_T.c.role]),
        created=from_db(m[_T.c.created]),
        expires_at=from_db(m[_T.c.expires_at]),
        invited_by=m[_T.c.invited_by],
    )


def _pending(now: datetime) -> sa.ColumnElement[bool]:
    return _T.c.expires_at > to_db(now)


class SqlInvitationLedger(InvitationLedger):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(self, invitation: Invitation) -> Invitation:
        async with self._db.write() as conn:
            await conn.execute(
                sa.delete(_T).where(
                    (_T.c.team_id == invitation.team_id) & (_T.c.email == invitation.email)
                )
            )
            await conn.execute(
                sa.insert(_T).values(
                    id=invitation.id,
                    team_id=invitation.team_id,
                    email=invitation.email,
                    role=invitation.role.value,
                    invited_by=invitation.invited_by,
                    created=to_db(invitation.created),
                    expires_at=to_db(invitation.expires_at),
                )
            )
        return invitation

    async def of_team(self, team_id: str, now: datetime) -> list[Invitation]:
        query = (
            sa.select(_T)
            .where((_T.c.team_id == team_id) & _pending(now))
            .order_by(_T.c.created.desc(), _T.c.id)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [invitation_from(row) for row in rows]

    async def withdraw(self, invitation_id: str, team_id: str) -> Invitation | None:
        mine = (_T.c.id == invitation_id) & (_T.c.team_id == team_id)
        async with self._db.write() as conn:
            row = (await conn.execute(sa.delete(_T).where(mine).returning(*_T.c))).first()
        return None if row is None else invitation_from(row)

    async def addressed_to(self, email: str, now: datetime) -> list[ReceivedInvitation]:
        query = (
            sa.select(_T, teams.c.name)
            .join(teams, teams.c.id == _T.c.team_id)
            .where((_T.c.email == email) & _pending(now))
            .order_by(_T.c.created.desc(), _T.c.id)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [
            ReceivedInvitation(invitation_from(row), row._mapping[teams.c.name]) for row in rows
        ]

    async def accept(
        self, invitation_id: str, user_id: str, email: str, now: datetime
    ) -> Membership | None:
        addressed = (_T.c.id == invitation_id) & (_T.c.email == email) & _pending(now)
        async with self._db.write() as conn:
            row = (await conn.execute(sa.select(_T).where(addressed).with_for_update())).first()
            if row is None:
                return None
            invitation = invitation_from(row)
            member = (memberships.c.user_id == user_id) & (
                memberships.c.team_id == invitation.team_id
            )
            if (await conn.execute(sa.select(memberships.c.role).where(member))).first():
                raise Conflict("You are a member of this team already.")
            await conn.execute(
                sa.insert(memberships).values(
                    user_id=user_id,
                    team_id=invitation.team_id,
                    role=invitation.role.value,
                    created=to_db(now),
                )
            )
            await conn.execute(sa.delete(_T).where(_T.c.id == invitation_id))
        return Membership(user_id, invitation.team_id, invitation.role, now)

    async def decline(self, invitation_id: str, email: str) -> bool:
        async with self._db.write() as conn:
            result = await conn.execute(
                sa.delete(_T).where((_T.c.id == invitation_id) & (_T.c.email == email))
            )
        return bool(result.rowcount)
