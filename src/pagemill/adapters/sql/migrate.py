"""Schema migrations: upgrade a ledger database to the newest revision with Alembic.

There is no ``alembic.ini``: the configuration is built here, so ``pagemill migrate`` and the
embedded start-up work from an installed wheel.
"""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from pagemill.adapters.sql.database import Database, create_engine
from pagemill.adapters.sql.sqlite_files import (
    prepare_sqlite_file,
    remove_sqlite_files,
    sqlite_path,
)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


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
        async with database.write() as connection:
            await connection.run_sync(_upgrade, alembic_config(url), revision)
    except BaseException:
        if created and path is not None:
            # A first start that failed leaves no empty file that the next start would refuse.
            await database.dispose()
            remove_sqlite_files(path)
        raise
    finally:
        await database.dispose()


def migrate(url: str) -> None:
    """Upgrade the database at ``url`` to the newest revision (for the CLI: no event loop)."""
    asyncio.run(migrate_async(url))
