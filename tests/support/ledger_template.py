"""A migrated, empty SQLite ledger made once per test process and copied for each test.

Migrating a fresh ledger runs every Alembic revision (a tenth of a second or more); copying a
file that was migrated once takes well under a millisecond, and ``migrate_async`` then finds it
at the newest revision and leaves it alone. Every copy is the same file the first start of the
server would have made (mode 0600 in a 0700 directory).
"""

from __future__ import annotations

import atexit
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

from pagemill.adapters.sql.migrate import migrate_async
from pagemill.adapters.sql.sqlite_files import PRIVATE_FILE

_template: Path | None = None


async def _build() -> Path:
    directory = Path(tempfile.mkdtemp(prefix="pagemill-template-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    path = directory / "pagemill.db"
    await migrate_async(f"sqlite:///{path}")
    # Fold the WAL into the main file, so copying that one file copies the whole ledger.
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    return path


async def copy_migrated_ledger(path: Path) -> None:
    """Put a migrated, empty ledger at ``path``, which must not exist yet."""
    global _template
    if _template is None:
        # Two servers opened at once may each build one: harmless, and no lock to share
        # between the event loops of different tests.
        _template = await _build()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as target, _template.open("rb") as source:
        shutil.copyfileobj(source, target)
