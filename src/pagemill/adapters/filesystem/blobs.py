"""A blob store on a directory: writes go to a temporary file, then an atomic rename."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import os
import secrets
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from pagemill.domain.errors import InvalidInput, NotFound, PayloadTooLarge
from pagemill.ports.blobs import BlobInfo, BlobStore

# Results and checkpoints of a page or two are a few KiB; larger blobs are written on a thread.
INLINE_WRITE_BYTES = 256 * 1024
# Uploads up to this size are written in one go; larger ones stream to disk past it.
MEMORY_BUFFER_BYTES = 1024 * 1024
# O_EXCL: a name taken by anyone else is an error, never a shared file.
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


class FilesystemBlobStore(BlobStore):
    def __init__(self, root: Path) -> None:
        self._root = root.resolve()
        self._root.mkdir(parents=True, exist_ok=True)
        # Names this store's temporary files apart from those of other processes sharing the
        # directory (other workers, on this host or another).
        self._token = secrets.token_hex(8)
        self._counter = itertools.count()

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
                await self._write_small_or_threaded(path, b"".join(buffered))
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
        await self._write_small_or_threaded(path, data)
        return BlobInfo(key=key, size=len(data), sha256=hashlib.sha256(data).hexdigest())

    async def _write_small_or_threaded(self, path: Path, data: bytes) -> None:
        if len(data) <= INLINE_WRITE_BYTES:
            # A few system calls into the page cache cost less than a hop to a thread.
            self._write_file(path, data)
        else:
            await asyncio.to_thread(self._write_file, path, data)

    def _write_file(self, path: Path, data: bytes) -> None:
        """Write ``data`` under a temporary name in the target's directory, then rename it.

        The temporary name is this store's token and a counter (unique without the random
        names and retries of ``mkstemp``), and the directory is created only when the first
        attempt finds it missing: most writes pay for neither."""
        tmp_name = os.path.join(path.parent, f".write-{self._token}-{next(self._counter)}")
        try:
            fd = os.open(tmp_name, _CREATE_FLAGS, 0o600)
        except FileNotFoundError:
            os.makedirs(path.parent, exist_ok=True)
            fd = os.open(tmp_name, _CREATE_FLAGS, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp_name, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise

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
    try:
        fd = os.open(tmp_name, _CREATE_FLAGS, 0o600)
    except FileNotFoundError:  # the first blob under this prefix: one mkdir, then never again
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp_name, _CREATE_FLAGS, 0o600)
    handle = os.fdopen(fd, "wb")
    try:
        handle.writelines(first)
    except BaseException:
        handle.close()
        os.unlink(tmp_name)
        raise
    return handle, tmp_name
