"""Starting on a SQLite ledger already at the newest revision skips Alembic; any other runs it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from pagemill.adapters.sql.migrate import alembic_config, head_revision, migrate_async


def stored_revision(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        return str(connection.execute("SELECT version_num FROM alembic_version").fetchone()[0])
    finally:
        connection.close()


def previous_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config()).get_revision(head_revision())
    assert script is not None and isinstance(script.down_revision, str)
    return script.down_revision


async def test_an_up_to_date_ledger_is_not_migrated_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "pagemill.db"
    await migrate_async(f"sqlite:///{path}")
    calls: list[str] = []
    monkeypatch.setattr("alembic.command.upgrade", lambda config, rev: calls.append(rev))

    await migrate_async(f"sqlite:///{path}")

    assert calls == []
    assert stored_revision(path) == head_revision()


async def test_a_ledger_one_revision_behind_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "pagemill.db"
    await migrate_async(f"sqlite:///{path}", previous_revision())
    assert stored_revision(path) == previous_revision()

    await migrate_async(f"sqlite:///{path}")

    assert stored_revision(path) == head_revision()
