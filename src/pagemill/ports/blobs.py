"""Blob storage for uploads, step results and checkpoints."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pagemill.domain.errors import NotFound

READ_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class BlobInfo:
    key: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """A blob as a listing sees it: its key and when its content was last written (or linked
    under this name: a copy made by a hard link is as new as the copy, never as old as its
    source)."""

    key: str
    written_at: datetime


class BlobStore(ABC):
    @abstractmethod
    async def write_stream(
        self, key: str, chunks: AsyncIterator[bytes], max_bytes: int
    ) -> BlobInfo:
        """Stream ``chunks`` into ``key``; raise ``PayloadTooLarge`` (and keep nothing) past
        ``max_bytes``. Never holds the whole blob in memory."""

    @abstractmethod
    async def write_bytes(self, key: str, data: bytes) -> BlobInfo: ...

    @abstractmethod
    async def read_bytes(self, key: str) -> bytes:
        """Raise ``NotFound`` when the blob does not exist."""

    @abstractmethod
    def local_path(self, key: str) -> AbstractAsyncContextManager[Path]:
        """A path on this machine holding the blob, for worker processes that need a file."""

    @abstractmethod
    async def delete(self, key: str) -> None: ...

    @abstractmethod
    async def exists(self, key: str) -> bool: ...

    @abstractmethod
    async def list_keys(self, prefix: str, *, after: str | None, limit: int) -> list[StoredBlob]:
        """Up to ``limit`` blobs whose key starts with ``prefix`` (a folder: ``results/``) and
        sorts after ``after`` (None: from the first), in key order, so a caller pages through
        a large store in bounded steps. Writes under way (temporary names) are never listed."""

    async def size(self, key: str) -> int | None:
        """The blob's size in bytes; None when it does not exist. Adapters may do better than
        this look at a local copy."""
        try:
            async with self.local_path(key) as path:
                return (await asyncio.to_thread(path.stat)).st_size
        except (NotFound, FileNotFoundError):
            return None

    async def copy(self, source: str, target: str) -> None:
        """Store the content of ``source`` under ``target`` too, as an independent blob (deleting
        one keeps the other); ``NotFound`` when ``source`` does not exist. Adapters may do better
        than this streamed copy (a hard link)."""
        await self.write_stream(target, self.read_stream(source), max_bytes=2**62)

    async def read_stream(self, key: str) -> AsyncIterator[bytes]:
        """The blob in chunks, never whole in memory; ``NotFound`` before the first chunk when
        it does not exist."""
        async with self.local_path(key) as path:
            handle = await asyncio.to_thread(path.open, "rb")
            try:
                while chunk := await asyncio.to_thread(handle.read, READ_CHUNK):
                    yield chunk
            finally:
                handle.close()
