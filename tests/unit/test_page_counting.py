"""Counting a submitted document's pages in a process pool: a document that crashes its reader,
hangs it or exhausts its memory is refused, and the pool (and this process) carries on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import pytest

from docgen.hostilegen import tiff_with_many_frames
from pagemill.adapters.compute import ProcessComputePool
from pagemill.adapters.filesystem import FilesystemBlobStore
from pagemill.adapters.memory import MemoryLimitStore
from pagemill.domain.errors import Conflict
from pagemill.ports.ledger.executions import ExecutionLedger
from pagemill.services.admission import Admission, AdmissionLimits, Inspector
from tests.component.test_admission import blank_pdf
from tests.support.readers import crashing_reader, greedy_reader, hanging_reader

pytestmark = pytest.mark.slow  # starts worker processes


@pytest.fixture
async def pool() -> AsyncIterator[ProcessComputePool]:
    counting = ProcessComputePool(1, 100, memory_limit_bytes=256 * 1024 * 1024)
    try:
        yield counting
    finally:
        await counting.close()


async def admission(
    tmp_path: Path, pool: ProcessComputePool, inspector: Inspector | None = None
) -> tuple[Admission, FilesystemBlobStore]:
    blobs = FilesystemBlobStore(tmp_path / "blobs")
    limits = AdmissionLimits(max_pages_per_request=100, count_timeout_seconds=2.0)
    executions = cast(ExecutionLedger, None)  # counting never reads the ledger
    if inspector is None:
        return Admission(executions, blobs, limits, pool, MemoryLimitStore()), blobs
    return (
        Admission(executions, blobs, limits, pool, MemoryLimitStore(), inspector=inspector),
        blobs,
    )


@pytest.mark.parametrize(
    ("reader", "reason"),
    [
        (crashing_reader, "crashed its reader"),
        (greedy_reader, "exhausted its memory"),
        (hanging_reader, "could not be inspected within 2 s"),
    ],
    ids=["crash", "memory", "hang"],
)
async def test_a_document_that_breaks_its_reader_is_refused_and_the_pool_recovers(
    tmp_path: Path, pool: ProcessComputePool, reader: Inspector, reason: str
) -> None:
    hostile, blobs = await admission(tmp_path, pool, reader)
    await blobs.write_bytes("inputs/doc", blank_pdf(3))

    with pytest.raises(Conflict, match=reason):
        await hostile.count("inputs/doc", None, None)

    healthy, _ = await admission(tmp_path, pool)
    assert await healthy.count("inputs/doc", None, None) == 3


async def test_a_tiff_of_millions_of_frames_is_refused_after_the_limit(
    tmp_path: Path, pool: ProcessComputePool
) -> None:
    counting, blobs = await admission(tmp_path, pool)
    chain = tiff_with_many_frames(tmp_path / "chain.tif", 1_000_000)
    await blobs.write_bytes("inputs/chain", chain.read_bytes())

    with pytest.raises(Conflict, match="at least 101 pages"):
        await counting.count("inputs/chain", None, None)
