"""The blob-store contract, run against every adapter."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pagemill.adapters.filesystem import FilesystemBlobStore
from pagemill.domain.errors import InvalidInput, NotFound, PayloadTooLarge
from pagemill.ports.blobs import BlobStore


@pytest.fixture(params=["filesystem"])
async def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    return FilesystemBlobStore(tmp_path / "blobs")


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_stream_then_read_back(blobs: BlobStore) -> None:
    info = await blobs.write_stream("inputs/a", chunks(b"hello ", b"world"), max_bytes=100)
    assert info.size == 11
    assert info.sha256 == "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
    assert await blobs.read_bytes("inputs/a") == b"hello world"
    assert await blobs.exists("inputs/a")
    async with blobs.local_path("inputs/a") as path:
        assert path.read_bytes() == b"hello world"


async def test_over_the_cap_keeps_nothing(blobs: BlobStore) -> None:
    with pytest.raises(PayloadTooLarge):
        await blobs.write_stream("inputs/big", chunks(b"x" * 60, b"x" * 60), max_bytes=100)
    assert not await blobs.exists("inputs/big")


async def test_a_failed_stream_keeps_nothing(blobs: BlobStore) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"partial"
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        await blobs.write_stream("inputs/broken", broken(), max_bytes=100)
    assert not await blobs.exists("inputs/broken")


async def test_overwrite_is_atomic_and_delete_is_idempotent(blobs: BlobStore) -> None:
    await blobs.write_bytes("results/e/0/1.json", b"{}")
    await blobs.write_bytes("results/e/0/1.json", b'{"a": 1}')
    assert await blobs.read_bytes("results/e/0/1.json") == b'{"a": 1}'
    await blobs.delete("results/e/0/1.json")
    await blobs.delete("results/e/0/1.json")
    with pytest.raises(NotFound):
        await blobs.read_bytes("results/e/0/1.json")
    with pytest.raises(NotFound):
        async with blobs.local_path("results/e/0/1.json"):
            pass


@pytest.mark.parametrize("key", ["../escape", "/abs", "a/../../b", "a\\b", ""])
async def test_keys_cannot_leave_the_store(blobs: BlobStore, key: str) -> None:
    with pytest.raises(InvalidInput):
        await blobs.write_bytes(key, b"x")


async def test_copies_are_independent_and_stream_back(blobs: BlobStore) -> None:
    data = bytes(range(256)) * 9000  # over one read chunk
    await blobs.write_bytes("files/original", data)
    await blobs.copy("files/original", "inputs/copy")

    await blobs.write_bytes("files/original", b"replaced")  # a rewrite is a new blob
    assert await blobs.read_bytes("inputs/copy") == data
    await blobs.delete("files/original")
    streamed = b"".join([chunk async for chunk in blobs.read_stream("inputs/copy")])
    assert streamed == data
    with pytest.raises(NotFound):
        await blobs.copy("files/original", "inputs/other")
    with pytest.raises(NotFound):
        async for _ in blobs.read_stream("files/original"):
            pass
    assert not await blobs.exists("inputs/other")


async def test_writes_create_missing_directories_and_leave_no_temporary_files(
    tmp_path: Path,
) -> None:
    blobs = FilesystemBlobStore(tmp_path / "blobs")
    await blobs.write_bytes("results/e1/0/1.json", b"{}")
    await blobs.write_bytes("results/e1/0/2.json", b"{}")  # the directory exists now
    # A directory removed behind the store's back (retention, an operator) is made again.
    for name in ("1.json", "2.json"):
        (tmp_path / "blobs/results/e1/0" / name).unlink()
    (tmp_path / "blobs/results/e1/0").rmdir()
    await blobs.write_bytes("results/e1/0/3.json", b"[]")
    big = b"x" * (2 * 1024 * 1024)  # written on a thread
    await blobs.write_bytes("results/e2/0/1.json", big)
    assert await blobs.read_bytes("results/e1/0/3.json") == b"[]"
    assert await blobs.read_bytes("results/e2/0/1.json") == big
    leftovers = [p.name for p in (tmp_path / "blobs").rglob(".*")]
    assert leftovers == []


async def test_a_failed_write_keeps_nothing(tmp_path: Path) -> None:
    blobs = FilesystemBlobStore(tmp_path / "blobs")
    (tmp_path / "blobs/results").write_bytes(b"a file where a directory belongs")
    with pytest.raises(NotADirectoryError):
        await blobs.write_bytes("results/e/0/1.json", b"{}")
    assert sorted(p.name for p in (tmp_path / "blobs").iterdir()) == ["results"]


async def test_two_stores_on_one_directory_do_not_share_temporary_names(tmp_path: Path) -> None:
    first, second = FilesystemBlobStore(tmp_path / "b"), FilesystemBlobStore(tmp_path / "b")
    await first.write_bytes("results/e/0/1.json", b"first")
    await second.write_bytes("results/e/0/2.json", b"second")
    assert await first.read_bytes("results/e/0/2.json") == b"second"
    assert await second.read_bytes("results/e/0/1.json") == b"first"


async def test_listing_pages_through_a_folder_in_key_order(blobs: BlobStore) -> None:
    keys = [
        "results/ab/x.0.1.json",
        "results/ab/x.1.1.json",
        "results/ab-c.json",
        "results/ab0/y.0.1.json",
        "results/zz/z.0.1.json",
    ]
    for key in reversed(keys):
        await blobs.write_bytes(key, b"{}")
    await blobs.write_bytes("inputs/other", b"x")  # another folder is not listed

    pages: list[list[str]] = []
    after: str | None = None
    while page := await blobs.list_keys("results/", after=after, limit=2):
        pages.append([blob.key for blob in page])
        after = page[-1].key
    assert pages == [keys[2:3] + keys[:1], keys[1:2] + keys[3:4], keys[4:]]
    assert await blobs.list_keys("checkpoints/", after=None, limit=10) == []


async def test_a_listing_dates_each_blob_and_a_copy_by_its_own_writing(
    blobs: BlobStore,
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=2)
    await blobs.write_bytes("files/old", b"x")
    if isinstance(blobs, FilesystemBlobStore):  # an old source: its copy is still new
        async with blobs.local_path("files/old") as path:
            os.utime(path, (time.time() - 86400, time.time() - 86400))
    await blobs.copy("files/old", "inputs/new")
    (listed,) = await blobs.list_keys("inputs/", after=None, limit=10)
    assert listed.key == "inputs/new"
    assert listed.written_at >= before
