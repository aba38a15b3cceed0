"""The data directory (mode 0700) and the secrets generated once into it (mode 0600)."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import stat
from pathlib import Path

MIN_SECRET_BYTES = 32
PRIVATE_DIRECTORY = 0o700

log = logging.getLogger("pagemill.files")


def private_directory(path: Path) -> None:
    """Create ``path`` with mode 0700, or tighten an existing one to 0700: it holds the ledger
    and the secrets, which no other local user may read."""
    path.mkdir(mode=PRIVATE_DIRECTORY, parents=True, exist_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        os.chmod(path, PRIVATE_DIRECTORY)
        log.warning("%s was open to other users (mode %o): changed to 0700", path, mode)


def load_or_create_secret(path: Path) -> bytes:
    """The secret in ``path``, created (64 random hex digits) if the file does not exist.

    Created with ``O_EXCL`` under a temporary name and linked into place, so processes starting
    together agree on one secret and nobody reads a half-written file.
    """
    with contextlib.suppress(FileNotFoundError):
        return _read(path)
    path.parent.mkdir(mode=PRIVATE_DIRECTORY, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(MIN_SECRET_BYTES) + "\n")
        with contextlib.suppress(FileExistsError):  # another process won: use its secret
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return _read(path)


def _read(path: Path) -> bytes:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        os.chmod(path, 0o600)
        log.warning("%s was readable by other users (mode %o): changed to 0600", path, mode)
    value = path.read_text().strip()
    if len(value) < MIN_SECRET_BYTES:
        raise ValueError(f"The secret in {path} is shorter than {MIN_SECRET_BYTES} characters.")
    return value.encode()
