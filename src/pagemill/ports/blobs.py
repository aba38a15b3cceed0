"""Blob storage for uploads, step results and checkpoints."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class BlobInfo:
    key: str
    size: int
    sha256: str


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
