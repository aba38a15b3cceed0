"""Fixtures of the contract suites: every adapter of a port behind one parametrized fixture."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pagemill.adapters.sql import SqlLedger, create_ledger
from pagemill.adapters.sql.migrate import migrate_async
from tests.support.ledger_template import copy_migrated_ledger
from tests.support.postgres import postgres_database_async


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlLedger]:
    """A ``SqlLedger`` on a freshly migrated, empty database of each dialect."""
    if request.param == "sqlite":
        path = tmp_path / "ledger" / "pagemill.db"
        await copy_migrated_ledger(path)
        url = f"sqlite:///{path}"
        store = create_ledger(url)
        try:
            yield store
        finally:
            await store.close()
        return
    async with postgres_database_async() as url:
        await migrate_async(url)
        store = create_ledger(url)
        try:
            yield store
        finally:
            await store.close()
