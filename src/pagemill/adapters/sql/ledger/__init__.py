"""``SqlLedger``: the durable ledger on SQLAlchemy Core, for SQLite and PostgreSQL.

One ``Database`` (the connector: transactions, point reads, error translation) is shared by
one object per area, each of which owns its SQL: ``steps``, ``executions``, ``pipelines``,
``custom_processors``, ``extraction_schemas``, ``eval_rubrics``, ``tenancy``, ``webhooks``,
``files``, ``idempotency``, ``uploads``, ``invitations``, ``retention``, ``storage``, ``secrets``,
``workflows``, ``collections`` and ``batch_runs``.
"""

from __future__ import annotations

from pagemill.adapters.sql.database import Database, DispatchHook, PoolSizing, create_engine
from pagemill.adapters.sql.ledger.batch_runs import SqlBatchRunLedger
from pagemill.adapters.sql.ledger.collections import SqlCollectionLedger
from pagemill.adapters.sql.ledger.executions import SqlExecutionLedger
from pagemill.adapters.sql.ledger.files import SqlFileLedger
from pagemill.adapters.sql.ledger.idempotency import SqlIdempotencyLedger
from pagemill.adapters.sql.ledger.invitations import SqlInvitationLedger
from pagemill.adapters.sql.ledger.pipelines import SqlPipelineCatalog
from pagemill.adapters.sql.ledger.retention import SqlRetentionLedger
from pagemill.adapters.sql.ledger.secrets import SqlSecretsLedger
from pagemill.adapters.sql.ledger.steps import SqlStepLedger
from pagemill.adapters.sql.ledger.storage import SqlStorageLedger
from pagemill.adapters.sql.ledger.tenancy import SqlTenancy
from pagemill.adapters.sql.ledger.uploads import SqlUploadLedger
from pagemill.adapters.sql.ledger.versioned import (
    CUSTOM_PROCESSOR_TABLES,
    EVAL_RUBRIC_TABLES,
    EXTRACTION_SCHEMA_TABLES,
    SqlVersionedStore,
)
from pagemill.adapters.sql.ledger.webhooks import SqlWebhookLedger
from pagemill.adapters.sql.ledger.workflows import SqlWorkflowLedger
from pagemill.ports.ledger import Ledger


class SqlLedger(Ledger):
    """The ledger's areas over one database; build it with ``create_ledger(url)``.

    The schema must be migrated first (``migrate(url)``); the ledger never creates tables.
    """

    def __init__(self, database: Database) -> None:
        self.database = database
        self.steps = SqlStepLedger(database)
        self.executions = SqlExecutionLedger(database)
        self.pipelines = SqlPipelineCatalog(database)
        self.custom_processors = SqlVersionedStore(database, CUSTOM_PROCESSOR_TABLES)
        self.extraction_schemas = SqlVersionedStore(database, EXTRACTION_SCHEMA_TABLES)
        self.eval_rubrics = SqlVersionedStore(database, EVAL_RUBRIC_TABLES)
        self.tenancy = SqlTenancy(database)
        self.webhooks = SqlWebhookLedger(database)
        self.files = SqlFileLedger(database)
        self.idempotency = SqlIdempotencyLedger(database)
        self.uploads = SqlUploadLedger(database)
        self.invitations = SqlInvitationLedger(database)
        self.retention = SqlRetentionLedger(database)
        self.storage = SqlStorageLedger(database)
        self.secrets = SqlSecretsLedger(database)
        self.workflows = SqlWorkflowLedger(database)
        self.collections = SqlCollectionLedger(database)
        self.batch_runs = SqlBatchRunLedger(database)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.database.engine.dialect.name

    async def ping(self) -> None:
        await self.database.ping()

    async def close(self) -> None:
        await self.database.dispose()


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


__all__ = ["SqlLedger", "create_ledger"]
