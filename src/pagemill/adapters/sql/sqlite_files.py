"""The SQLite ledger's files: created private, and never silently re-initialised.

The ledger holds API key digests, password hashes and the server's secrets, so its file and the
``-wal``/``-shm`` files beside it are created mode 0600 (SQLite gives the journal files the mode
of the database file) and tightened to 0600 when an older version left them readable by others.

A ledger file that exists must be a pagemill ledger: a zero-byte, foreign or corrupt file would
otherwise be migrated as if it were a first start, creating a fresh team and key while every
team, key and execution it held is gone. Only a file that does not exist is a first start.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

from pagemill.adapters.sql.database import is_sqlite, normalize_url

log = logging.getLogger("pagemill.ledger")

PRIVATE_FILE = 0o600
_SUFFIXES = ("", "-wal", "-shm")


class LedgerFileError(ValueError):
    """An existing SQLite ledger file that cannot be used (empty, foreign or corrupt)."""


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite ledger URL; None for PostgreSQL and for ``file:`` URIs."""
    normalized = normalize_url(url)
    if not is_sqlite(normalized):
        return None
    database = make_url(normalized).database or ""
    if database.startswith("file:"):
        return None
    return Path(database).expanduser()


def prepare_sqlite_file(path: Path) -> str | None:
    """Make ``path`` ready to be opened as the ledger; its schema revision, or None when the
    file was created now (empty).

    A missing file is created empty with mode 0600 (its directory 0700 if missing); an existing
    one must already be a pagemill ledger (``LedgerFileError`` otherwise, naming the file and
    what to do) and has its files' modes tightened to 0600.
    """
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        except FileExistsError:  # another process is creating it right now: check it below
            pass
        else:
            os.close(fd)
            return None
    revision = check_ledger_file(path)
    tighten_modes(path)
    return revision


def check_ledger_file(path: Path) -> str:
    """The schema revision of the ledger in ``path``; refuse a file that is not an initialised
    pagemill ledger (see the module docstring)."""
    hint = (
        "restore it from a backup, or move it away to start with a new, empty ledger "
        "(pagemill never re-initialises an existing ledger)"
    )
    wal = path.with_name(path.name + "-wal")
    if path.stat().st_size == 0 and not (wal.exists() and wal.stat().st_size > 0):
        raise LedgerFileError(f"The ledger file {path} is empty (0 bytes): {hint}.")
    try:
        connection = sqlite3.connect(path, timeout=5)
        try:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise LedgerFileError(
            f"The ledger file {path} is not a usable pagemill ledger ({_reason(error)}): {hint}."
        ) from error
    if row is None:
        raise LedgerFileError(
            f"The ledger file {path} is not a usable pagemill ledger (no schema version): {hint}."
        )
    return str(row[0])


def _reason(error: sqlite3.DatabaseError) -> str:
    text = str(error).strip()
    if "no such table" in text:
        return "it has no pagemill schema"
    return text or type(error).__name__


def tighten_modes(path: Path) -> None:
    """Give the ledger file and its ``-wal``/``-shm`` files mode 0600 if they are wider."""
    for suffix in _SUFFIXES:
        file = path.with_name(path.name + suffix)
        with contextlib.suppress(FileNotFoundError):
            mode = stat.S_IMODE(file.stat().st_mode)
            if mode & 0o077:
                os.chmod(file, PRIVATE_FILE)
                log.warning("%s was readable by other users (mode %o): changed to 0600", file, mode)


def remove_sqlite_files(path: Path) -> None:
    """Delete a ledger created by a first start that failed before it was initialised."""
    for suffix in _SUFFIXES:
        with contextlib.suppress(FileNotFoundError):
            path.with_name(path.name + suffix).unlink()
