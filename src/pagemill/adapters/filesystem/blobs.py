"""A blob store on a directory: writes go to a temporary file, then an atomic rename.

No file operation of a network file system (the NFS directory a scale-out deployment shares)
runs on the event loop: there a write or a rename waits on a server, and the loop would stall
every request of the process behind it. On a local disk, small writes stay inline (a thread hop
costs more than the write), and a large upload is written a megabyte at a time from a thread.

A full disk (or quota) is ``InsufficientStorage`` (503 with the reason), never a generic error:
nothing of the failed write is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import itertools
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from pagemill.adapters.filesystem.mounts import is_network_filesystem
from pagemill.domain.errors import (
    InsufficientStorage,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
)
from pagemill.ports.blobs import BlobInfo, BlobStore, StoredBlob

# Results and checkpoints of a page or two are a few KiB; larger blobs are written on a thread.
INLINE_WRITE_BYTES = 256 * 1024
# Uploads up to this size are written in one go; larger ones stream to disk past it.
MEMORY_BUFFER_BYTES = 1024 * 1024
# Past the buffer, a large upload is handed to a thread in batches of about this size.
FLUSH_BYTES = 1024 * 1024
_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
# O_EXCL: a name taken by anyone else is an error, never a shared file.
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


@contextlib.contextmanager
def _writing(key: str) -> Iterator[None]:
    """OS errors of a write as domain errors: a full disk says so (503 either way)."""
    try:
        yield
    except OSError as error:
        if error.errno in _FULL:
            raise InsufficientStorage(
                "The server's storage is full: nothing was stored. Try again later."
            ) from error
        if isinstance(error, FileNotFoundError | IsADirectoryError | NotADirectoryError):
            raise
        raise ServiceUnavailable(
            f"The blob store cannot be written ({error.strerror or error}); nothing was stored."
        ) from error


class FilesystemBlobStore(BlobStore):
    def __init__(self, root: Path, *, inline_small_io: bool | None = None) -> None:
        """``inline_small_io``: do small writes and stats on the event loop (default: only
        when ``root`` is on a local file system)."""
        self._root = root.resolve()
        self._root.mkdir(parents=True, exist_ok=True)
        self._inline = (
            not is_network_filesystem(self._root) if inline_small_io is None else inline_small_io
        )
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
        # written by one call (open, write, rename). Past the threshold the rest streams to a
        # temporary file, handed to a thread a batch at a time.
        buffered: list[bytes] = []
        pending = 0
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
                buffered.append(chunk)
                pending += len(chunk)
                if handle is None and size > MEMORY_BUFFER_BYTES:
                    with _writing(key):
                        handle, tmp_name = await asyncio.to_thread(_open_temporary, path, buffered)
                    buffered, pending = [], 0
                elif handle is not None and pending >= FLUSH_BYTES:
                    with _writing(key):
                        await asyncio.to_thread(handle.writelines, buffered)
                    buffered, pending = [], 0
            with _writing(key):
                if handle is None:
                    await self._write_small_or_threaded(path, b"".join(buffered))
                else:
                    await asyncio.to_thread(_finish, handle, buffered, tmp_name, path)
        except BaseException:
            if handle is not None:
                await asyncio.to_thread(_discard, handle, tmp_name)
            raise
        return BlobInfo(key=key, size=size, sha256=digest.hexdigest())

    async def write_bytes(self, key: str, data: bytes) -> BlobInfo:
        path = self._path(key)
        with _writing(key):
            await self._write_small_or_threaded(path, data)
        return BlobInfo(key=key, size=len(data), sha256=hashlib.sha256(data).hexdigest())

    async def _write_small_or_threaded(self, path: Path, data: bytes) -> None:
        if self._inline and len(data) <= INLINE_WRITE_BYTES:
            # Local disk: a few system calls into the page cache cost less than a thread hop.
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
        # One stat of a local file: cheaper in place than a thread hop (not so on NFS).
        exists = path.exists() if self._inline else await asyncio.to_thread(path.exists)
        if not exists:
            raise NotFound(f"Blob {key} not found or expired")
        yield path

    async def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(self._path(key).unlink)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).exists)

    async def list_keys(self, prefix: str, *, after: str | None, limit: int) -> list[StoredBlob]:
        folder = prefix.rstrip("/")
        self._path(folder)  # refuses a prefix that could leave the root
        return await asyncio.to_thread(self._list, folder, after, limit)

    def _list(self, folder: str, after: str | None, limit: int) -> list[StoredBlob]:
        found: list[StoredBlob] = []
        for key, path in _walk(self._root / folder, folder, after):
            try:
                stat = path.stat()
            except FileNotFoundError:  # deleted while listing
                continue
            # A hard link (``copy``) keeps its source's mtime but changes the inode's ctime:
            # the later of the two is when this name got its content.
            written = max(stat.st_mtime, stat.st_ctime)
            found.append(StoredBlob(key, datetime.fromtimestamp(written, UTC)))
            if len(found) >= limit:
                break
        return found

    async def size(self, key: str) -> int | None:
        try:
            return (await asyncio.to_thread(self._path(key).stat)).st_size
        except FileNotFoundError:
            return None

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
            with _writing(target):
                await asyncio.to_thread(link)
        except FileNotFoundError as exc:  # deleted while linking
            raise NotFound(f"Blob {source} not found or expired") from exc


def _walk(directory: Path, folder: str, after: str | None) -> Iterator[tuple[str, Path]]:
    """The blobs under ``directory`` (key prefix ``folder``) in key order, skipping the
    temporary files of writes under way (dot names) and whole folders sorting before ``after``."""
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return
    # Key order: a folder's keys continue with "/", so it sorts as its name plus "/".
    named = sorted(
        (
            (entry.name + ("/" if entry.is_dir(follow_symlinks=False) else ""), entry)
            for entry in entries
            if not entry.name.startswith(".")
        ),
        key=lambda named_entry: named_entry[0],
    )
    for name, entry in named:
        key = f"{folder}/{name}"
        if name.endswith("/"):
            # Every key inside sorts between "folder/name/" and the next name: skip it all
            # when ``after`` is past it.
            if after is not None and key < after and not after.startswith(key):
                continue
            yield from _walk(Path(entry.path), key.rstrip("/"), after)
        elif after is None or key > after:
            yield key, Path(entry.path)


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
        _discard(handle, tmp_name)
        raise
    return handle, tmp_name


def _finish(handle: BinaryIO, rest: list[bytes], tmp_name: str, path: Path) -> None:
    """Write the last batch, close (flushing) and move the temporary file into place."""
    handle.writelines(rest)
    handle.close()
    os.replace(tmp_name, path)


def _discard(handle: BinaryIO, tmp_name: str) -> None:
    with contextlib.suppress(OSError):  # closing flushes, and the disk may be full
        handle.close()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp_name)
