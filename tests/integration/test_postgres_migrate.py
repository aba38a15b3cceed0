"""Starting on a PostgreSQL ledger already at the newest revision skips Alembic (one query of
the version table); a ledger behind is upgraded, and starts racing on a new database migrate
one after the other under the advisory lock."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from pagemill.adapters.sql.database import Database, create_engine
from pagemill.adapters.sql.migrate import (
    alembic_config,
    head_revision,
    migrate_async,
    stored_postgres_revision,
)
from tests.support.postgres import postgres_database

pytestmark = pytest.mark.postgres


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    with postgres_database() as url:
        yield url


async def stored(url: str) -> str | None:
    database = Database(create_engine(url))
    try:
        return await stored_postgres_revision(database)
    finally:
        await database.dispose()


def previous_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config()).get_revision(head_revision())
    assert script is not None and isinstance(script.down_revision, str)
    return script.down_revision


async def test_an_up_to_date_ledger_is_not_migrated_again(
    empty_postgres: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await stored(empty_postgres) is None  # a new database has no version table
    await migrate_async(empty_postgres)
    calls: list[str] = []
    monkeypatch.setattr("alembic.command.upgrade", lambda config, rev: calls.append(rev))
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        await migrate_async(empty_postgres)
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)

    assert calls == []
    # The version read, and nothing but what the driver asks on connecting.
    assert [s for s in statements if "alembic_version" in s] == [
        "SELECT version_num FROM alembic_version"
    ]
    assert not any("pg_advisory" in s for s in statements)
    assert await stored(empty_postgres) == head_revision()


async def test_a_ledger_one_revision_behind_is_upgraded(empty_postgres: str) -> None:
    await migrate_async(empty_postgres, previous_revision())
    assert await stored(empty_postgres) == previous_revision()

    await migrate_async(empty_postgres)

    assert await stored(empty_postgres) == head_revision()


async def test_starts_racing_on_a_new_database_migrate_one_at_a_time(empty_postgres: str) -> None:
    await asyncio.gather(*(migrate_async(empty_postgres) for _ in range(3)))

    assert await stored(empty_postgres) == head_revision()
