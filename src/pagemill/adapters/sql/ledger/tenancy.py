"""The tenancy ledger on SQL: teams, API keys, users, memberships, browser sessions and the
server's own secrets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pagemill.adapters.sql.database import Database, from_db, from_db_opt, to_db
from pagemill.adapters.sql.tables import (
    api_keys,
    memberships,
    server_secrets,
    sessions,
    teams,
    users,
)
from pagemill.domain.errors import Conflict
from pagemill.domain.models import ApiKey, Team
from pagemill.domain.teams import Member, Membership, Role, Session, User
from pagemill.ports.ledger.tenancy import TenancyLedger

Row = sa.Row[Any]

# Prebuilt: authentication reads a key on every cache miss.
_API_KEY = sa.select(api_keys).where(api_keys.c.id == sa.bindparam("key_id"))
_TOUCH_API_KEY = (
    sa.update(api_keys)
    .where(api_keys.c.id == sa.bindparam("key_id"))
    .values(last_used_at=sa.bindparam("now"))
)


def team_from(row: Row) -> Team:
    m = row._mapping
    return Team(
        id=m[teams.c.id],
        name=m[teams.c.name],
        created=from_db(m[teams.c.created]),
        retention_seconds=m[teams.c.retention_seconds],
    )


def api_key_from(row: Row) -> ApiKey:
    m = row._mapping
    return ApiKey(
        id=m[api_keys.c.id],
        team_id=m[api_keys.c.team_id],
        name=m[api_keys.c.name],
        key_hash=m[api_keys.c.key_hash],
        created=from_db(m[api_keys.c.created]),
        last_used_at=from_db_opt(m[api_keys.c.last_used_at]),
        expires_at=from_db_opt(m[api_keys.c.expires_at]),
        revoked_at=from_db_opt(m[api_keys.c.revoked_at]),
        prefix=m[api_keys.c.prefix],
        created_by=m[api_keys.c.created_by],
    )


def user_from(row: Row) -> User:
    m = row._mapping
    return User(
        id=m[users.c.id],
        email=m[users.c.email],
        name=m[users.c.name],
        password_hash=m[users.c.password_hash],
        created=from_db(m[users.c.created]),
        disabled=bool(m[users.c.disabled]),
    )


def membership_from(row: Row) -> Membership:
    m = row._mapping
    return Membership(
        user_id=m[memberships.c.user_id],
        team_id=m[memberships.c.team_id],
        role=Role(m[memberships.c.role]),
        created=from_db(m[memberships.c.created]),
    )


def session_from(row: Row) -> Session:
    m = row._mapping
    return Session(
        id=m[sessions.c.id],
        user_id=m[sessions.c.user_id],
        created=from_db(m[sessions.c.created]),
        expires_at=from_db(m[sessions.c.expires_at]),
    )


def _member(user_id: str, team_id: str) -> sa.ColumnElement[bool]:
    return (memberships.c.user_id == user_id) & (memberships.c.team_id == team_id)


def _opt(value: datetime | None) -> datetime | None:
    return None if value is None else to_db(value)


class SqlTenancy(TenancyLedger):
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- teams -------------------------------------------------------------------------------
    async def create_team(self, team_id: str, name: str, now: datetime) -> Team:
        async with self._db.write() as conn:
            await conn.execute(sa.insert(teams).values(id=team_id, name=name, created=to_db(now)))
            row = (await conn.execute(sa.select(teams).where(teams.c.id == team_id))).one()
        return team_from(row)

    async def team(self, team_id: str) -> Team | None:
        row = await self._db.fetch_one(sa.select(teams).where(teams.c.id == team_id))
        return None if row is None else team_from(row)

    async def list_teams(self) -> list[Team]:
        rows = await self._db.fetch(sa.select(teams).order_by(teams.c.name))
        return [team_from(row) for row in rows]

    async def set_team_retention(self, team_id: str, seconds: int | None) -> bool:
        async with self._db.write() as conn:
            result = await conn.execute(
                sa.update(teams).where(teams.c.id == team_id).values(retention_seconds=seconds)
            )
        return bool(result.rowcount)

    async def team_by_name(self, name: str) -> Team | None:
        row = await self._db.fetch_one(sa.select(teams).where(teams.c.name == name))
        return None if row is None else team_from(row)

    async def count_teams(self) -> int:
        async with self._db.read() as conn:
            count = (await conn.execute(sa.select(sa.func.count()).select_from(teams))).scalar_one()
        return int(count)

    # -- users -------------------------------------------------------------------------------
    async def create_user(self, user: User) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                sa.insert(users).values(
                    id=user.id,
                    email=user.email,
                    name=user.name,
                    password_hash=user.password_hash,
                    created=to_db(user.created),
                    disabled=user.disabled,
                )
            )

    async def user(self, user_id: str) -> User | None:
        row = await self._db.fetch_one(sa.select(users).where(users.c.id == user_id))
        return None if row is None else user_from(row)

    async def user_by_email(self, email: str) -> User | None:
        row = await self._db.fetch_one(sa.select(users).where(users.c.email == email))
        return None if row is None else user_from(row)

    async def set_password(self, user_id: str, password_hash: str) -> bool:
        async with self._db.write() as conn:
            changed = await conn.execute(
                sa.update(users).where(users.c.id == user_id).values(password_hash=password_hash)
            )
            await conn.execute(sa.delete(sessions).where(sessions.c.user_id == user_id))
        return changed.rowcount == 1

    async def rehash_password(self, user_id: str, old_hash: str, new_hash: str) -> bool:
        async with self._db.write() as conn:
            changed = await conn.execute(
                sa.update(users)
                .where(users.c.id == user_id, users.c.password_hash == old_hash)
                .values(password_hash=new_hash)
            )
        return changed.rowcount == 1

    # -- memberships -------------------------------------------------------------------------
    async def add_membership(self, membership: Membership) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                sa.insert(memberships).values(
                    user_id=membership.user_id,
                    team_id=membership.team_id,
                    role=membership.role.value,
                    created=to_db(membership.created),
                )
            )

    async def membership(self, user_id: str, team_id: str) -> Membership | None:
        row = await self._db.fetch_one(sa.select(memberships).where(_member(user_id, team_id)))
        return None if row is None else membership_from(row)

    async def user_teams(self, user_id: str) -> list[tuple[Team, Role]]:
        query = (
            sa.select(teams, memberships.c.role)
            .join(memberships, memberships.c.team_id == teams.c.id)
            .where(memberships.c.user_id == user_id)
            .order_by(teams.c.name)
        )
        rows = await self._db.fetch(query)
        return [(team_from(row), Role(row._mapping[memberships.c.role])) for row in rows]

    async def team_members(self, team_id: str) -> list[Member]:
        query = (
            sa.select(users, memberships.c.role, memberships.c.created.label("joined"))
            .join(memberships, memberships.c.user_id == users.c.id)
            .where(memberships.c.team_id == team_id)
            .order_by(memberships.c.created, users.c.email)
        )
        rows = await self._db.fetch(query)
        return [
            Member(
                user_id=row._mapping[users.c.id],
                email=row._mapping[users.c.email],
                name=row._mapping[users.c.name],
                role=Role(row._mapping[memberships.c.role]),
                created=from_db(row._mapping["joined"]),
                disabled=bool(row._mapping[users.c.disabled]),
            )
            for row in rows
        ]

    async def change_membership(
        self, team_id: str, user_id: str, role: Role | None
    ) -> Membership | None:
        async with self._db.write() as conn:
            # Serialize membership changes of one team (PostgreSQL; SQLite writes are serial):
            # the owner count below must not change before this transaction commits.
            await conn.execute(sa.select(teams.c.id).where(teams.c.id == team_id).with_for_update())
            row = (
                await conn.execute(sa.select(memberships).where(_member(user_id, team_id)))
            ).first()
            if row is None:
                return None
            current = membership_from(row)
            if current.role is Role.OWNER and role is not Role.OWNER:
                owners = (
                    await conn.execute(
                        sa.select(sa.func.count())
                        .select_from(memberships)
                        .where(
                            (memberships.c.team_id == team_id)
                            & (memberships.c.role == Role.OWNER.value)
                        )
                    )
                ).scalar_one()
                if owners <= 1:
                    raise Conflict("A team must keep at least one owner.")
            if role is None:
                await conn.execute(sa.delete(memberships).where(_member(user_id, team_id)))
                return current
            await conn.execute(
                sa.update(memberships).where(_member(user_id, team_id)).values(role=role.value)
            )
        return Membership(user_id, team_id, role, current.created)

    # -- api keys ----------------------------------------------------------------------------
    async def create_api_key(self, key: ApiKey) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                sa.insert(api_keys).values(
                    id=key.id,
                    team_id=key.team_id,
                    name=key.name,
                    key_hash=key.key_hash,
                    created=to_db(key.created),
                    last_used_at=_opt(key.last_used_at),
                    expires_at=_opt(key.expires_at),
                    revoked_at=_opt(key.revoked_at),
                    prefix=key.prefix,
                    created_by=key.created_by,
                )
            )

    async def api_key(self, key_id: str) -> ApiKey | None:
        rows = await self._db.point_read(_API_KEY, {"key_id": key_id})
        return api_key_from(rows[0]) if rows else None

    async def touch_api_key(self, key_id: str, now: datetime) -> None:
        await self._db.write_one(_TOUCH_API_KEY, {"key_id": key_id, "now": to_db(now)})

    async def list_api_keys(self, team_id: str) -> list[ApiKey]:
        query = (
            sa.select(api_keys)
            .where(api_keys.c.team_id == team_id)
            .order_by(api_keys.c.created.desc(), api_keys.c.id)
        )
        rows = await self._db.fetch(query)
        return [api_key_from(row) for row in rows]

    async def revoke_api_key(self, team_id: str, key_id: str, now: datetime) -> ApiKey | None:
        mine = (api_keys.c.id == key_id) & (api_keys.c.team_id == team_id)
        async with self._db.write() as conn:
            await conn.execute(
                sa.update(api_keys)
                .where(mine & api_keys.c.revoked_at.is_(None))
                .values(revoked_at=to_db(now))
            )
            row = (await conn.execute(sa.select(api_keys).where(mine))).first()
        return None if row is None else api_key_from(row)

    # -- sessions ----------------------------------------------------------------------------
    async def create_session(self, session: Session) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                sa.insert(sessions).values(
                    id=session.id,
                    user_id=session.user_id,
                    created=to_db(session.created),
                    expires_at=to_db(session.expires_at),
                )
            )

    async def session(self, session_id: str) -> Session | None:
        row = await self._db.fetch_one(sa.select(sessions).where(sessions.c.id == session_id))
        return None if row is None else session_from(row)

    async def delete_session(self, session_id: str) -> None:
        async with self._db.write() as conn:
            await conn.execute(sa.delete(sessions).where(sessions.c.id == session_id))

    async def delete_expired_sessions(self, now: datetime) -> int:
        async with self._db.write() as conn:
            result = await conn.execute(
                sa.delete(sessions).where(sessions.c.expires_at < to_db(now))
            )
        return int(result.rowcount)

    # -- server secrets ----------------------------------------------------------------------
    async def server_secret(self, name: str, candidate: str, now: datetime) -> str:
        query = sa.select(server_secrets.c.value).where(server_secrets.c.name == name)
        async with self._db.read() as conn:
            stored = (await conn.execute(query)).scalar_one_or_none()
        if stored is not None:
            return str(stored)
        try:
            async with self._db.write() as conn:
                await conn.execute(
                    sa.insert(server_secrets).values(name=name, value=candidate, created=to_db(now))
                )
        except Conflict:
            pass  # another process stored its candidate first: read the winner below
        async with self._db.read() as conn:
            return str((await conn.execute(query)).scalar_one())
