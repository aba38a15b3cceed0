"""The file-system blob store: small uploads written at once, large ones streamed to disk."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pagemill.adapters.filesystem import FilesystemBlobStore
from pagemill.adapters.filesystem.blobs import MEMORY_BUFFER_BYTES
from pagemill.domain.errors import PayloadTooLarge

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
