"""The file-system blob store: small uploads written at once, large ones streamed to disk; a
full disk is a clear error; nothing blocks the event loop on a network file system."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any

import pytest

from pagemill.adapters.filesystem import FilesystemBlobStore
from pagemill.adapters.filesystem.blobs import MEMORY_BUFFER_BYTES
from pagemill.adapters.filesystem.mounts import filesystem_type
from pagemill.domain.errors import InsufficientStorage, PayloadTooLarge

CHUNK = 256 * 1024


def _temporaries(root: Path) -> list[Path]:
    return [p for p in root.rglob(".*") if p.is_file()]


async def test_a_large_upload_is_on_disk_before_it_ends(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    on_disk_while_streaming: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        for _ in range(MEMORY_BUFFER_BYTES // CHUNK + 3):
            yield b"a" * CHUNK
        # Past the in-memory threshold: the bytes so far are in a temporary file already.
        on_disk_while_streaming.extend(p.stat().st_size for p in _temporaries(tmp_path))

    info = await store.write_stream("inputs/large", body(), max_bytes=2**40)

    assert on_disk_while_streaming and on_disk_while_streaming[0] > MEMORY_BUFFER_BYTES
    size = (MEMORY_BUFFER_BYTES // CHUNK + 3) * CHUNK
    assert info.size == size
    assert info.sha256 == hashlib.sha256(b"a" * size).hexdigest()
    assert (tmp_path / "inputs" / "large").stat().st_size == size
    assert _temporaries(tmp_path) == []


async def test_a_small_upload_leaves_only_its_blob(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)

    async def body() -> AsyncIterator[bytes]:
        yield b"%PDF-"
        yield b"1.7"

    info = await store.write_stream("inputs/new/dir/small", body(), max_bytes=100)

    assert (info.size, (tmp_path / "inputs/new/dir/small").read_bytes()) == (8, b"%PDF-1.7")
    assert _temporaries(tmp_path) == []


async def test_over_the_cap_after_spilling_to_disk_keeps_nothing(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)

    async def body() -> AsyncIterator[bytes]:
        while True:
            yield b"b" * CHUNK

    with pytest.raises(PayloadTooLarge):
        await store.write_stream("inputs/huge", body(), max_bytes=MEMORY_BUFFER_BYTES + 3 * CHUNK)

    assert not (tmp_path / "inputs" / "huge").exists()
    assert _temporaries(tmp_path) == []


# -- a full disk -------------------------------------------------------------------------------


@pytest.fixture
def full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every file opened under ``tmp_path/full`` is ``/dev/full``: writes fail with ENOSPC from
    the kernel, as on a full disk."""
    root = tmp_path / "full"
    real_open = os.open

    def open_on_full_disk(path: Any, flags: int, mode: int = 0o777, **kwargs: Any) -> int:
        if str(path).startswith(str(root)):
            return real_open("/dev/full", os.O_WRONLY)
        return real_open(path, flags, mode, **kwargs)

    monkeypatch.setattr(os, "open", open_on_full_disk)
    return root


@pytest.mark.parametrize("size", [100, 3 * MEMORY_BUFFER_BYTES])
async def test_a_full_disk_is_insufficient_storage_and_keeps_nothing(
    full_disk: Path, size: int
) -> None:
    store = FilesystemBlobStore(full_disk)

    async def body() -> AsyncIterator[bytes]:
        for start in range(0, size, CHUNK):
            yield b"c" * min(CHUNK, size - start)

    with pytest.raises(InsufficientStorage, match="storage is full"):
        await store.write_stream("inputs/doc", body(), max_bytes=2**40)
    with pytest.raises(InsufficientStorage):
        await store.write_bytes("results/r.json", b"{}")
    assert not any(p.is_file() for p in full_disk.rglob("*"))


# -- never blocking the event loop on a network file system ----------------------------------


async def _ticks_during(work: Coroutine[Any, Any, object]) -> int:
    """How often a 10 ms ticker ran on the loop while ``work`` ran."""
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    running = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    try:
        await work
    finally:
        running.cancel()
    return ticks


async def test_slow_network_writes_never_stall_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FilesystemBlobStore(tmp_path, inline_small_io=False)  # as on NFS
    real_replace = os.replace

    def slow_replace(source: Any, target: Any) -> None:
        time.sleep(0.3)  # a rename waiting on a slow file server
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", slow_replace)

    async def body(size: int) -> AsyncIterator[bytes]:
        for _ in range(size // CHUNK):
            yield b"d" * CHUNK

    assert await _ticks_during(store.write_bytes("results/small.json", b"{}")) >= 3
    assert await _ticks_during(store.write_stream("inputs/a", body(CHUNK), 2**40)) >= 3
    large = body(3 * MEMORY_BUFFER_BYTES)
    assert await _ticks_during(store.write_stream("inputs/b", large, 2**40)) >= 3


def test_network_file_systems_are_recognised_from_mountinfo() -> None:
    mountinfo = (
        "22 27 0:21 / / rw,relatime - ext4 /dev/sda1 rw\n"
        "40 22 0:50 / /mnt/shared rw,relatime - nfs4 files:/export rw,vers=4.2\n"
        "41 22 0:51 / /mnt/with\\040space rw - fuse.sshfs me@host: rw\n"
    )
    assert filesystem_type(Path("/mnt/shared/blobs"), mountinfo) == "nfs4"
    assert filesystem_type(Path("/mnt/shared"), mountinfo) == "nfs4"
    assert filesystem_type(Path("/mnt/sharedx/blobs"), mountinfo) == "ext4"
    assert filesystem_type(Path("/mnt/with space/x"), mountinfo) == "fuse.sshfs"
    assert filesystem_type(Path("/var/lib/pagemill"), mountinfo) == "ext4"
