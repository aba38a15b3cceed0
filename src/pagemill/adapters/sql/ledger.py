"""``SqlLedger``: the durable ledger on SQLAlchemy Core, for SQLite and PostgreSQL.

The methods live in mixins by subject (pipelines, custom processors, extraction schemas,
executions, the engine); this module adds the lifecycle, teams and API keys, and the factory.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from pagemill.adapters.sql.engine import Database, DispatchHook, PoolSizing, create_engine, to_db
from pagemill.adapters.sql.ledger_cancel import CancelMethods
from pagemill.adapters.sql.ledger_custom import CustomProcessorMethods
from pagemill.adapters.sql.ledger_engine import EngineMethods
from pagemill.adapters.sql.ledger_executions import ExecutionMethods
from pagemill.adapters.sql.ledger_files import FileMethods
from pagemill.adapters.sql.ledger_invitations import InvitationMethods
from pagemill.adapters.sql.ledger_ops import OperationsMethods
from pagemill.adapters.sql.ledger_pipelines import PipelineMethods
from pagemill.adapters.sql.ledger_rows import api_key_from, team_from
from pagemill.adapters.sql.ledger_schemas import ExtractionSchemaMethods
from pagemill.adapters.sql.ledger_secrets import SecretsMethods
from pagemill.adapters.sql.ledger_storage import StorageMethods
from pagemill.adapters.sql.ledger_teams import TeamMethods
from pagemill.adapters.sql.ledger_uploads import UploadMethods
from pagemill.adapters.sql.ledger_webhooks import WebhookMethods
from pagemill.adapters.sql.tables import api_keys, teams
from pagemill.domain.models import ApiKey, Team
from pagemill.ports.ledger import Ledger

# Prebuilt: authentication reads a key on every cache miss.
_API_KEY = sa.select(api_keys).where(api_keys.c.id == sa.bindparam("key_id"))
_TOUCH_API_KEY = (
    sa.update(api_keys)
    .where(api_keys.c.id == sa.bindparam("key_id"))
    .values(last_used_at=sa.bindparam("now"))
)


class SqlLedger(
    PipelineMethods,
    CustomProcessorMethods,
    ExtractionSchemaMethods,
    ExecutionMethods,
    FileMethods,
    EngineMethods,
    CancelMethods,
    OperationsMethods,
    TeamMethods,
    WebhookMethods,
    UploadMethods,
    InvitationMethods,
    StorageMethods,
    SecretsMethods,
    Ledger,
):
    """The ledger on one database; build it with ``create_ledger(url)``.

    The schema must be migrated first (``migrate(url)``); the ledger never creates tables.
    """

    def __init__(self, database: Database) -> None:
        self._db = database

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._db.engine.dialect.name

    # -- lifecycle ---------------------------------------------------------------------------
    async def close(self) -> None:
        await self._db.dispose()

    async def ping(self) -> None:
        async with self._db.read() as conn:
            await conn.execute(sa.select(1))

    # -- teams and keys ----------------------------------------------------------------------
    async def create_team(self, team_id: str, name: str, now: datetime) -> Team:
        async with self._db.write() as conn:
            await conn.execute(sa.insert(teams).values(id=team_id, name=name, created=to_db(now)))
            row = (await conn.execute(sa.select(teams).where(teams.c.id == team_id))).one()
        return team_from(row)

    async def team_by_name(self, name: str) -> Team | None:
        async with self._db.read() as conn:
            row = (await conn.execute(sa.select(teams).where(teams.c.name == name))).first()
        return None if row is None else team_from(row)

    async def count_teams(self) -> int:
        async with self._db.read() as conn:
            count = (await conn.execute(sa.select(sa.func.count()).select_from(teams))).scalar_one()
        return int(count)

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


def _opt(value: datetime | None) -> datetime | None:
    return None if value is None else to_db(value)


def create_ledger(
    url: str, on_dispatch: DispatchHook | None = None, pool: PoolSizing | None = None
) -> SqlLedger:
    """A ledger on the database at ``url`` (``sqlite:///…`` or ``postgresql://…``).

    ``on_dispatch`` runs inside every transaction that dispatches steps (see ``DispatchHook``);
    ``pool`` sizes PostgreSQL's connection pool (default ``PoolSizing()``).
    Raises ``ValueError`` for a URL of another kind. Connects lazily: the first call that needs
    the database raises ``ServiceUnavailable`` if it cannot be reached.
    """
    return SqlLedger(Database(create_engine(url, pool), on_dispatch, pool))
