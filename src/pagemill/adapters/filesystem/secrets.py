"""A secret generated once and kept in a file of the data directory (mode 0600)."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

MIN_SECRET_BYTES = 32


def load_or_create_secret(path: Path) -> bytes:
    """The secret in ``path``, created (64 random hex digits) if the file does not exist.

    Created with ``O_EXCL`` under a temporary name and linked into place, so processes starting
    together agree on one secret and nobody reads a half-written file.
    """
    with contextlib.suppress(FileNotFoundError):
        return _read(path)
    path.parent.mkdir(parents=True, exist_ok=True)
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
    value = path.read_text().strip()
    if len(value) < MIN_SECRET_BYTES:
        raise ValueError(f"The secret in {path} is shorter than {MIN_SECRET_BYTES} characters.")
    return value.encode()
