"""The migrations build exactly the schema the code declares, on both dialects."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from pagemill.adapters.sql import create_ledger, migrate
from pagemill.adapters.sql.database import create_engine
from pagemill.adapters.sql.migrate import alembic_config, migrate_async
from pagemill.adapters.sql.tables import metadata
from tests.support.postgres import postgres_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh' / 'pagemill.db'}"
        return
    with postgres_database() as url:
        yield url


def _inspect(url: str) -> tuple[list[Any], str | None, set[str]]:
    """The differences from ``tables.metadata``, the current revision and the tables."""

    def read(connection: sa.Connection) -> tuple[list[Any], str | None, set[str]]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        tables = set(sa.inspect(connection).get_table_names())
        return compare_metadata(context, metadata), context.get_current_revision(), tables

    async def run() -> tuple[list[Any], str | None, set[str]]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(read)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_upgrade_to_head_matches_the_declared_schema(empty_database: str) -> None:
    migrate(empty_database)

    diff, revision, tables = _inspect(empty_database)

    assert diff == []
    assert revision == ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert tables == set(metadata.tables) | {"alembic_version"}


def test_upgrade_is_idempotent(empty_database: str) -> None:
    migrate(empty_database)
    migrate(empty_database)

    diff, _, _ = _inspect(empty_database)

    assert diff == []


def test_downgrade_to_base_removes_everything(
    empty_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    migrate(empty_database)

    def downgrade(connection: sa.Connection) -> None:
        config = alembic_config(empty_database)
        config.attributes["connection"] = connection
        command.downgrade(config, "base")

    async def run() -> None:
        engine = create_engine(empty_database)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(downgrade)
        finally:
            await engine.dispose()

    with caplog.at_level(logging.INFO, logger="pagemill.migrations"):
        asyncio.run(run())

    _, revision, tables = _inspect(empty_database)
    assert revision is None
    assert tables == {"alembic_version"}
    reverted = [
        r.getMessage().split("reverted migration ")[1].split()[0]
        for r in caplog.records
        if "reverted migration" in r.getMessage()
    ]
    assert reverted == [
        s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    ]


def test_migrations_form_one_linear_history() -> None:
    script = ScriptDirectory.from_config(alembic_config())

    assert len(script.get_heads()) == 1
    assert [r.revision for r in script.walk_revisions()][-1] == "0001"


def test_unsupported_url_is_refused() -> None:
    with pytest.raises(ValueError, match="Unsupported database URL"):
        migrate("mysql://localhost/db")


def test_sequential_ids_survive_the_switch_to_random_ones(empty_database: str) -> None:
    """Rows made before 0011 keep their ids (clients hold them); new rows get random ones."""

    async def run() -> tuple[list[int], int]:
        await migrate_async(empty_database, "0010")
        engine = create_engine(empty_database)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    sa.text("INSERT INTO teams (id, name, created) VALUES ('t', 't', :now)"),
                    {"now": "2026-01-01 00:00:00"},
                )
                for name in ("old-1", "old-2"):
                    await connection.execute(
                        sa.text(
                            "INSERT INTO files (team_id, original_filename, content_type, "
                            "blob_key, upload_status, created) VALUES "
                            "('t', :name, 'text/plain', 'files/x', 'pending', :now)"
                        ),
                        {"name": name, "now": "2026-01-01 00:00:00"},
                    )
        finally:
            await engine.dispose()
        await migrate_async(empty_database)
        ledger = create_ledger(empty_database)
        try:
            listed, _ = await ledger.files.page("t", limit=10, offset=0)
            old = sorted(f.file_id for f in listed)
            new = await ledger.files.create(
                "t", "new", "text/plain", "files/y", datetime(2026, 1, 2, tzinfo=UTC)
            )
            assert await ledger.files.get(old[0], "t") is not None
        finally:
            await ledger.close()
        return old, new.file_id

    old, new = asyncio.run(run())

    assert old == [1, 2]
    assert new >= 2**32


def test_the_storage_count_starts_from_the_files_and_inputs_there_are(
    empty_database: str,
) -> None:
    async def run() -> int:
        await migrate_async(empty_database, "0011")
        engine = create_engine(empty_database)
        now = {"now": "2026-01-01 00:00:00"}
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    sa.text("INSERT INTO teams (id, name, created) VALUES ('t', 't', :now)"), now
                )
                await connection.execute(
                    sa.text(
                        "INSERT INTO files (id, team_id, original_filename, content_type, "
                        "blob_key, upload_status, file_size, created) VALUES "
                        "(5000000000, 't', 'a', 'text/plain', 'files/a', 'completed', 1000, :now)"
                    ),
                    now,
                )
                await connection.execute(
                    sa.text(
                        "INSERT INTO executions (execution_id, team_id, pipeline_id, "
                        "pipeline_version, status, seq, created, input_key, config_snapshot, "
                        "input_config) VALUES ('pex_1', 't', 'pl_1', 0, 'completed', 1, :now, "
                        "'inputs/x', '{}', :config)"
                    ),
                    {**now, "config": '{"file_size": 234, "filename": "x.pdf"}'},
                )
        finally:
            await engine.dispose()
        await migrate_async(empty_database)
        ledger = create_ledger(empty_database)
        try:
            return await ledger.storage.used("t")
        finally:
            await ledger.close()

    assert asyncio.run(run()) == 1234


def _migrate_command(data_dir: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pagemill", "migrate", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stderr


def test_migrate_logs_one_line_per_migration_applied_and_none_when_up_to_date(
    tmp_path: Path,
) -> None:
    revisions = [s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()]

    first = _migrate_command(tmp_path / "data")
    again = _migrate_command(tmp_path / "data")

    applied = [line for line in first.splitlines() if "applied migration" in line]
    assert sorted(line.split("applied migration ")[1].split()[0] for line in applied) == sorted(
        revisions
    )
    assert "alembic" not in first + again  # no dialect or per-revision chatter from Alembic
    assert "migration" not in again
    assert "The ledger schema is up to date." in again
