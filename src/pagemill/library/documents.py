"""What the library accepts as a document: a path, or the bytes of a file."""

from __future__ import annotations

import contextlib
import mimetypes
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

from pagemill.domain.errors import InvalidInput

Source = str | os.PathLike[str] | bytes
"""A document: the path of a file, or its content as bytes."""

CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class LocalDocument:
    path: Path
    filename: str

    @property
    def content_type(self) -> str:
        return mimetypes.guess_type(self.filename)[0] or "application/octet-stream"

    async def chunks(self) -> AsyncIterator[bytes]:
        with self.path.open("rb") as handle:
            while chunk := handle.read(CHUNK_BYTES):
                yield chunk


@contextlib.contextmanager
def local_document(source: Source, filename: str | None = None) -> Iterator[LocalDocument]:
    """``source`` as a file on disk for the length of the block (bytes go to a temporary
    file); ``filename`` names it (default: the path's name, or ``document``)."""
    if isinstance(source, bytes):
        with tempfile.TemporaryDirectory(prefix="pagemill-") as directory:
            path = Path(directory) / "document"
            path.write_bytes(source)
            yield LocalDocument(path, filename or "document")
        return
    path = Path(source)
    if not path.is_file():
        raise InvalidInput(f"No such file: {path}")
    yield LocalDocument(path, filename or path.name)
