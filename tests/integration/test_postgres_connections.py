"""PostgreSQL connections without a ping per checkout: a connection the server dropped costs at
most one request a 503 and is replaced; single reads retry on a new one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy.engine import make_url

from pagemill.adapters.sql import SqlLedger, create_ledger
from pagemill.adapters.sql.migrate import migrate_async
from pagemill.domain.errors import ServiceUnavailable
from tests.support.postgres import postgres_database_async

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def drop_connections(url: str) -> None:
    """End every other session of the test database, as a server restart does."""
    async with await psycopg.AsyncConnection.connect(_libpq(url), autocommit=True) as admin:
        others = (
            "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        await admin.execute(f"SELECT pg_terminate_backend(pid) {others}")
        for _ in range(500):  # termination is asynchronous: wait until they are gone
            row = await (await admin.execute(f"SELECT count(*) {others}")).fetchone()
            if row is not None and row[0] == 0:
                return
            await asyncio.sleep(0.01)
    raise AssertionError("the sessions did not end")


@pytest.fixture
async def pg() -> AsyncIterator[tuple[SqlLedger, str]]:
    async with postgres_database_async() as url:
        await migrate_async(url)
        ledger = create_ledger(url)
        try:
            yield ledger, url
        finally:
            await ledger.close()


async def test_a_dropped_connection_fails_one_write_clearly_and_is_replaced(
    pg: tuple[SqlLedger, str],
) -> None:
    ledger, url = pg
    await ledger.create_team("team_1", "one", NOW)  # leaves a pooled connection
    await drop_connections(url)

    with pytest.raises(ServiceUnavailable, match="The database is unavailable"):
        await ledger.create_team("team_2", "two", NOW)

    await ledger.create_team("team_2", "two", NOW)  # a new connection, no restart needed
    assert await ledger.team_by_name("two") is not None


async def test_single_reads_survive_dropped_connections(pg: tuple[SqlLedger, str]) -> None:
    ledger, url = pg
    team = await ledger.create_team("team_1", "one", NOW)
    pipeline = await ledger.create_pipeline(team.id, "pl_1", [{"type": "convert"}], NOW)
    assert await ledger.execution_head("exe_1", team.id) is None  # opens the plain reader
    assert await ledger.pipeline(team.id, "pl_1") == pipeline
    await drop_connections(url)

    # The head read (straight on the driver) and a SQLAlchemy point read: both repeat once.
    assert await ledger.execution_head("exe_1", team.id) is None
    assert await ledger.pipeline(team.id, "pl_1") == pipeline


async def test_reads_while_the_server_is_gone_are_503s(pg: tuple[SqlLedger, str]) -> None:
    ledger, url = pg
    await ledger.execution_head("exe_1", "team_1")
    gone = create_ledger(make_url(url).set(port=1).render_as_string(hide_password=False))
    try:
        with pytest.raises(ServiceUnavailable, match="The database is unavailable"):
            await gone.execution_head("exe_1", "team_1")
        with pytest.raises(ServiceUnavailable, match="The database is unavailable"):
            await gone.pipeline("team_1", "pl_1")
    finally:
        await gone.close()
