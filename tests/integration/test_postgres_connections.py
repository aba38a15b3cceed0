"""PostgreSQL connections without a ping per checkout: a connection the server dropped costs at
most one request a 503 and is replaced; single reads retry on a new one; and the round trips of
the hot API paths are counted."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy.engine import make_url

from pagemill.adapters.sql import SqlLedger, create_ledger
from pagemill.adapters.sql.migrate import migrate_async
from pagemill.domain.errors import ServiceUnavailable
from tests.support.app import TestServer, test_server
from tests.support.postgres import postgres_database_async
from tests.support.processors import test_registry

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
    await ledger.tenancy.create_team("team_1", "one", NOW)  # leaves a pooled connection
    await drop_connections(url)

    with pytest.raises(ServiceUnavailable, match="The database is unavailable"):
        await ledger.tenancy.create_team("team_2", "two", NOW)

    await ledger.tenancy.create_team("team_2", "two", NOW)  # a new connection, no restart needed
    assert await ledger.tenancy.team_by_name("two") is not None


async def test_single_reads_survive_dropped_connections(pg: tuple[SqlLedger, str]) -> None:
    ledger, url = pg
    team = await ledger.tenancy.create_team("team_1", "one", NOW)
    pipeline = await ledger.pipelines.create(team.id, "pl_1", [{"type": "convert"}], NOW)
    assert await ledger.executions.head("exe_1", team.id) is None  # opens the plain reader
    assert await ledger.pipelines.get(team.id, "pl_1") == pipeline
    await drop_connections(url)

    # The head read (straight on the driver) and a SQLAlchemy point read: both repeat once.
    assert await ledger.executions.head("exe_1", team.id) is None
    assert await ledger.pipelines.get(team.id, "pl_1") == pipeline


async def test_reads_while_the_server_is_gone_are_503s(pg: tuple[SqlLedger, str]) -> None:
    ledger, url = pg
    await ledger.executions.head("exe_1", "team_1")
    gone = create_ledger(make_url(url).set(port=1).render_as_string(hide_password=False))
    try:
        with pytest.raises(ServiceUnavailable, match="The database is unavailable"):
            await gone.executions.head("exe_1", "team_1")
        with pytest.raises(ServiceUnavailable, match="The database is unavailable"):
            await gone.pipelines.get("team_1", "pl_1")
    finally:
        await gone.close()


# -- round trips of the API's hot paths -----------------------------------------------------


class RoundTrips:
    """Counts this process's PostgreSQL round trips: statements, implicit BEGINs, COMMITs and
    ROLLBACKs (psycopg's cursor and connection methods, wrapped)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        execute = psycopg.AsyncCursor.execute
        executemany = psycopg.AsyncCursor.executemany
        commit = psycopg.AsyncConnection.commit
        rollback = psycopg.AsyncConnection.rollback
        counts = self.counts

        def begins(cursor: Any) -> None:
            conn = cursor.connection
            if not conn.autocommit and conn.info.transaction_status == TransactionStatus.IDLE:
                counts["BEGIN"] += 1

        async def counted_execute(cursor: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            begins(cursor)
            counts[_verb(query)] += 1
            return await execute(cursor, query, *args, **kwargs)

        async def counted_executemany(cursor: Any, query: Any, *args: Any, **kw: Any) -> Any:
            begins(cursor)
            counts[_verb(query)] += 1
            return await executemany(cursor, query, *args, **kw)

        async def counted_commit(conn: Any) -> None:
            if conn.info.transaction_status != TransactionStatus.IDLE:
                counts["COMMIT"] += 1
            await commit(conn)

        async def counted_rollback(conn: Any) -> None:
            if conn.info.transaction_status != TransactionStatus.IDLE:
                counts["ROLLBACK"] += 1
            await rollback(conn)

        monkeypatch.setattr(psycopg.AsyncCursor, "execute", counted_execute)
        monkeypatch.setattr(psycopg.AsyncCursor, "executemany", counted_executemany)
        monkeypatch.setattr(psycopg.AsyncConnection, "commit", counted_commit)
        monkeypatch.setattr(psycopg.AsyncConnection, "rollback", counted_rollback)

    def take(self) -> collections.Counter[str]:
        taken = collections.Counter(self.counts)
        self.counts.clear()
        return taken


def _verb(query: Any) -> str:
    text = query.decode() if isinstance(query, bytes) else str(query)
    words = text.split()
    return words[0].upper() if words else "(empty)"  # SQLAlchemy's ping is an empty statement


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    async with (
        postgres_database_async() as url,
        test_server(tmp_path / "data", test_registry(), database_url=url, workers=0) as running,
    ):
        yield running


async def test_a_run_and_a_poll_cost_the_fewest_round_trips(
    server: TestServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    headers = server.headers()
    created = await server.client.post(
        "/api/v1/pipelines", json={"steps": [{"type": "convert"}]}, headers=headers
    )
    run_url = f"/api/v1/pipelines/{created.json()['pipeline_id']}/run"
    pdf = b"%PDF-1.4 test"

    async def run() -> str:
        response = await server.client.post(
            run_url, files={"file": ("a.pdf", pdf, "application/pdf")}, headers=headers
        )
        assert response.status_code == 200, response.text
        return str(response.json()["execution_id"])

    execution_id = await run()  # warm: the key is cached, the connections are open
    await server.services.keys.settle()
    trips = RoundTrips(monkeypatch)

    await run()
    # The pipeline, the upload's count of the team's stored bytes (one autocommit upsert), the
    # team's pages in flight, then one transaction: two INSERTs and the queue's deferral. No
    # second pipeline read, no read transactions, no pings.
    assert trips.take() == {"SELECT": 3, "INSERT": 3, "BEGIN": 1, "COMMIT": 1}

    polled = await server.client.get(
        f"/api/v1/pipelines/executions/{execution_id}", headers=headers
    )
    assert polled.status_code == 200
    assert trips.take() == {"SELECT": 1}  # the ledger head; the rest comes from the live store
