"""The ledger's per-submit and per-step reads find their rows through an index (SQLite plans).

A read that walks a table, or every row of a team, gets slower with each execution the ledger
keeps; on a busy server that is CPU spent on history at every submit and every claim.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from pagemill.adapters.sql import SqlLedger, create_ledger
from pagemill.adapters.sql.migrate import migrate_async
from pagemill.ports.ledger.executions import ExecutionCursor
from tests.contract.ledger_kit import LEASE, T0, at, new_execution, team


@pytest.fixture
async def sqlite_ledger(tmp_path: Path) -> AsyncIterator[tuple[SqlLedger, Path]]:
    path = tmp_path / "ledger" / "pagemill.db"
    url = f"sqlite:///{path}"
    await migrate_async(url)
    store = create_ledger(url)
    try:
        yield store, path
    finally:
        await store.close()


async def _plans(
    ledger: SqlLedger, path: Path, call: Callable[[], Awaitable[Any]]
) -> dict[str, list[str]]:
    """The SELECTs ``call`` sends, each with SQLite's query plan for it."""
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    # On every engine: reads may take the ledger's async engine or its inline point reader.
    event.listen(sa.Engine, "before_cursor_execute", seen)
    try:
        await call()
    finally:
        event.remove(sa.Engine, "before_cursor_execute", seen)
    assert statements, "the call sent no SELECT"
    with sqlite3.connect(path) as db:
        return {
            sql: [
                str(row[-1])
                for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", [None] * sql.count("?"))
            ]
            for sql in statements
        }


async def test_pages_in_flight_reads_only_unfinished_executions(
    sqlite_ledger: tuple[SqlLedger, Path],
) -> None:
    ledger, path = sqlite_ledger
    await team(ledger, "team_a")

    plans = await _plans(ledger, path, lambda: ledger.executions.pages_in_flight("team_a"))

    (plan,) = plans.values()
    assert any("team_id=? AND status=?" in line for line in plan), plan


async def test_claim_and_idle_reads_never_scan_a_table(
    sqlite_ledger: tuple[SqlLedger, Path],
) -> None:
    ledger, path = sqlite_ledger
    await team(ledger, "team_a")
    await ledger.executions.create(new_execution("team_a", ["convert", "segment"]), T0)

    plans = {
        **await _plans(ledger, path, lambda: ledger.steps.claim_next("w1", at(1), LEASE, None)),
        **await _plans(ledger, path, lambda: ledger.steps.next_due(["convert", "segment"])),
        **await _plans(ledger, path, lambda: ledger.steps.expired_leases(at(100), 100)),
    }

    for sql, plan in plans.items():
        scans = [line for line in plan if line.startswith("SCAN") and "INDEX" not in line]
        assert not scans, f"{sql}\n{plan}"


async def test_the_poll_of_a_lookup_key_and_a_checkpoint_check_use_indexes(
    sqlite_ledger: tuple[SqlLedger, Path],
) -> None:
    ledger, path = sqlite_ledger
    await team(ledger, "team_a")
    for _ in range(3):
        await ledger.executions.create(new_execution("team_a", ["convert", "segment"]), T0)

    plans = {
        **await _plans(ledger, path, lambda: ledger.executions.by_lookup_key("req_x", "team_a")),
        **await _plans(
            ledger, path, lambda: ledger.executions.checkpoint_owned("ckpt_x", "team_a")
        ),
    }

    for sql, plan in plans.items():
        scans = [line for line in plan if line.startswith("SCAN")]
        assert not scans, f"{sql}\n{plan}"


async def test_the_dashboard_list_reads_a_page_through_an_index_without_sorting(
    sqlite_ledger: tuple[SqlLedger, Path],
) -> None:
    ledger, path = sqlite_ledger
    await team(ledger, "team_a")
    for _ in range(3):
        await ledger.executions.create(new_execution("team_a", ["convert"]), T0)
    cursor = ExecutionCursor(T0, "pex_zzz")

    plans = await _plans(
        ledger, path, lambda: ledger.executions.recent("team_a", before=cursor, limit=50)
    )

    listing = [plan for sql, plan in plans.items() if "FROM executions" in sql]
    assert listing
    for plan in listing:
        assert any("ix_executions_team_id_created_execution_id" in line for line in plan), plan
        assert not any("TEMP B-TREE" in line for line in plan), plan
