"""Schema migrations: upgrade a ledger database to the newest revision with Alembic.

There is no ``alembic.ini``: the configuration is built here, so ``pagemill migrate`` and the
embedded start-up work from an installed wheel.

A ledger already at the newest revision is not handed to Alembic at all (which imports every
migration script and reflects the version table on each start): SQLite reads the revision from
the file, PostgreSQL in one autocommit query. On PostgreSQL an upgrade holds a transaction-level
advisory lock, so processes starting together migrate one after the other: the first applies
the migrations, the others then find the revision at head and apply nothing.
"""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import exc, text
from sqlalchemy.engine import Connection

from pagemill.adapters.sql.database import Database, create_engine, translate_errors
from pagemill.adapters.sql.sqlite_files import (
    prepare_sqlite_file,
    remove_sqlite_files,
    sqlite_path,
)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The advisory lock key of migrations on PostgreSQL (any constant of pagemill's own).
MIGRATION_LOCK_KEY = 0x7061_6765_6D69_6C6C  # "pagemill"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic ``Config`` for the ledger's migrations, optionally bound to ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # An attribute, not a main option: options go through ConfigParser interpolation,
        # which would choke on the ``%`` of a percent-encoded password.
        config.attributes["url"] = url
    return config


@functools.cache
def head_revision() -> str:
    """The newest revision of the ledger's migrations (read once per process)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"No migrations in {MIGRATIONS_DIR}")
    return head


def _upgrade(connection: Connection, config: Config, revision: str) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def migrate_async(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision``, in one transaction where DDL allows.

    A SQLite file that does not exist is created (mode 0600); one that exists must be a
    pagemill ledger already (see ``sqlite_files``): an empty or foreign file is never
    initialised in its place.

    Raises ``ValueError`` for an unsupported URL or an unusable SQLite file, and
    ``ServiceUnavailable`` when the database cannot be reached.
    """
    path = sqlite_path(url)
    created = False
    if path is not None:
        stored = prepare_sqlite_file(path)
        created = stored is None
        if revision == "head" and stored == head_revision():
            # Nothing to apply: skip Alembic, which imports every migration script on each
            # start (most of a start's cost on an up-to-date file).
            return
    database = Database(create_engine(url))
    try:
        if (
            path is None
            and revision == "head"
            and await stored_postgres_revision(database) == head_revision()
        ):
            return
        async with database.write() as connection:
            if not database.is_sqlite:
                # Held until the transaction ends: a concurrent start waits here, then Alembic
                # (in this transaction) finds the revision the first one left.
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
            await connection.run_sync(_upgrade, alembic_config(url), revision)
    except BaseException:
        if created and path is not None:
            # A first start that failed leaves no empty file that the next start would refuse.
            await database.dispose()
            remove_sqlite_files(path)
        raise
    finally:
        await database.dispose()


async def stored_postgres_revision(database: Database) -> str | None:
    """The revision a PostgreSQL ledger is at, in one autocommit query; None for a database
    without pagemill's schema (no version table) or not at one revision."""
    engine = database.engine.execution_options(isolation_level="AUTOCOMMIT")
    with translate_errors():  # an unreachable server is ``ServiceUnavailable``, as elsewhere
        try:
            async with engine.connect() as connection:
                rows = list(
                    await connection.execute(text("SELECT version_num FROM alembic_version"))
                )
        except exc.ProgrammingError:  # no version table: a new (or foreign) database
            return None
    return str(rows[0][0]) if len(rows) == 1 else None


def migrate(url: str) -> None:
    """Upgrade the database at ``url`` to the newest revision (for the CLI: no event loop)."""
    asyncio.run(migrate_async(url))
