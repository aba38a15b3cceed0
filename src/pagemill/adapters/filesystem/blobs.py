"""A blob store on a directory: writes go to a temporary file, then an atomic rename."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from pagemill.domain.errors import InvalidInput, NotFound, PayloadTooLarge
from pagemill.ports.blobs import BlobInfo, BlobStore

# Uploads up to this size are written in one go; larger ones stream to disk past it.
MEMORY_BUFFER_BYTES = 1024 * 1024


class FilesystemBlobStore(BlobStore):
    def __init__(self, root: Path) -> None:
        self._root = root.resolve()
        self._root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        # Keys are built by pagemill, but refuse anything that could leave the root anyway.
        if not key or key.startswith("/") or ".." in key.split("/") or "\\" in key:
            raise InvalidInput(f"Invalid blob key {key!r}.")
        return self._root / key

    async def write_stream(
        self, key: str, chunks: AsyncIterator[bytes], max_bytes: int
    ) -> BlobInfo:
        path = self._path(key)
        digest = hashlib.sha256()
        size = 0
        # The first bytes are held in memory: a small upload (the usual document) is then
        # written by one thread call (open, write, rename); a thread hop costs more than the
        # write itself. Past the threshold the rest streams to a temporary file.
        buffered: list[bytes] = []
        handle: BinaryIO | None = None
        tmp_name = ""
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(
                        f"The file is larger than the limit of {max_bytes} bytes."
                    )
                digest.update(chunk)
                if handle is not None:
                    # Small writes go straight to the OS buffer; a thread hop per chunk costs
                    # more.
                    handle.write(chunk)
                    continue
                buffered.append(chunk)
                if size > MEMORY_BUFFER_BYTES:
                    handle, tmp_name = await asyncio.to_thread(_open_temporary, path, buffered)
                    buffered = []
            if handle is None:
                await asyncio.to_thread(_write_whole, path, buffered)
            else:
                handle.close()
                await asyncio.to_thread(os.replace, tmp_name, path)
        except BaseException:
            if handle is not None:
                handle.close()
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp_name)
            raise
        return BlobInfo(key=key, size=size, sha256=digest.hexdigest())

    async def write_bytes(self, key: str, data: bytes) -> BlobInfo:
        path = self._path(key)
        await asyncio.to_thread(_write_whole, path, [data])
        return BlobInfo(key=key, size=len(data), sha256=hashlib.sha256(data).hexdigest())

    async def read_bytes(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError as exc:
            raise NotFound(f"Blob {key} not found or expired") from exc

    @contextlib.asynccontextmanager
    async def local_path(self, key: str) -> AsyncIterator[Path]:
        path = self._path(key)
        # One stat of a local file: cheaper in place than a thread hop.
        if not path.exists():
            raise NotFound(f"Blob {key} not found or expired")
        yield path

    async def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(self._path(key).unlink)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).exists)

    async def copy(self, source: str, target: str) -> None:
        # A hard link: instant and no extra space; blobs are never modified in place (every
        # write is a rename), so the two names stay independent.
        src, dst = self._path(source), self._path(target)

        def link() -> None:
            if not src.is_file():
                raise NotFound(f"Blob {source} not found or expired")
            dst.parent.mkdir(parents=True, exist_ok=True)
            tmp = dst.with_name(f".link-{dst.name}")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            try:
                os.link(src, tmp)
            except OSError:  # another file system, or links not supported: copy the bytes
                shutil.copyfile(src, tmp)
            os.replace(tmp, dst)

        try:
            await asyncio.to_thread(link)
        except FileNotFoundError as exc:  # deleted while linking
            raise NotFound(f"Blob {source} not found or expired") from exc


def _open_temporary(path: Path, first: list[bytes]) -> tuple[BinaryIO, str]:
    """A new temporary file beside ``path`` (its directory made if missing) holding ``first``."""
    tmp_name = str(path.with_name(f".upload-{path.name}-{secrets.token_hex(6)}"))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(tmp_name, flags, 0o600)
    except FileNotFoundError:  # the first blob under this prefix: one mkdir, then never again
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp_name, flags, 0o600)
    handle = os.fdopen(fd, "wb")
    try:
        handle.writelines(first)
    except BaseException:
        handle.close()
        os.unlink(tmp_name)
        raise
    return handle, tmp_name


def _write_whole(path: Path, data: list[bytes]) -> None:
    """Write ``data`` to a temporary file, then rename it to ``path`` (atomic for readers)."""
    handle, tmp_name = _open_temporary(path, data)
    try:
        handle.close()
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
