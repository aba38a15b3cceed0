"""Benchmark 3: server memory while a 200 MiB file is uploaded to ``POST …/run``.

The client streams a multipart body from disk (1 MiB reads, explicit Content-Length), so
neither side needs the file in memory. The server's RSS is sampled every 20 ms from before the
request until 0.5 s after the response; ``VmHWM`` (the kernel's peak RSS) is read before and
after as a cross-check that a short spike between samples was not missed.
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

from harness import create_pipeline, expect, run_small, running_server

MIB = 1024 * 1024
SAMPLE_SECONDS = 0.02
AFTER_SECONDS = 0.5


@dataclass
class UploadResult:
    size_bytes: int
    baseline_rss: int
    peak_rss: int
    hwm_before: int
    hwm_after: int
    seconds: float
    samples: int
    execution_id: str
    stored_size: int  # input_config.file_size of the created execution

    @property
    def growth(self) -> int:
        return max(0, self.peak_rss - self.baseline_rss)

    @property
    def hwm_growth(self) -> int:
        # HWM only moves when the peak of the process's life is exceeded.
        return max(0, self.hwm_after - max(self.hwm_before, self.baseline_rss))


def _make_file(directory: Path, size: int) -> Path:
    path = directory / "big.pdf"
    header = b"%PDF-1.4\n% pagemill benchmark padding\n"
    block = b"\0" * MIB
    with path.open("wb") as handle:
        handle.write(header)
        left = size - len(header)
        while left > 0:
            handle.write(block[: min(left, MIB)])
            left -= MIB
    return path


def _vm_hwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


class _RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self._process = psutil.Process(pid)
        self._halt = threading.Event()
        self.peak = 0
        self.samples = 0

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            self.samples += 1
            self._halt.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._halt.set()
        self.join()


async def _upload(client: httpx.AsyncClient, pipeline_id: str, path: Path) -> dict[str, Any]:
    boundary = f"pagemill-bench-{secrets.token_hex(8)}"
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = len(head) + path.stat().st_size + len(tail)

    async def body() -> AsyncIterator[bytes]:
        yield head
        with path.open("rb") as handle:
            while chunk := handle.read(MIB):
                yield chunk
        yield tail

    response = await client.post(
        f"/api/v1/pipelines/{pipeline_id}/run",
        content=body(),
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(length),
        },
    )
    created: dict[str, Any] = expect(response)
    return created


async def run(size_mib: int = 200) -> UploadResult:
    with tempfile.TemporaryDirectory(prefix="pagemill-bench-upload-") as tmp:
        path = await asyncio.to_thread(_make_file, Path(tmp), size_mib * MIB)
        async with running_server() as server, server.client(timeout=300) as client:
            pipeline_id = await create_pipeline(client, [{"type": "convert"}])
            await run_small(client, pipeline_id)  # warm the upload and step paths
            await asyncio.sleep(0.5)
            process = psutil.Process(server.pid)
            baseline = process.memory_info().rss
            hwm_before = _vm_hwm(server.pid)
            sampler = _RssSampler(server.pid)
            sampler.start()
            try:
                started = time.perf_counter()
                created = await _upload(client, pipeline_id, path)
                seconds = time.perf_counter() - started
                await asyncio.sleep(AFTER_SECONDS)
            finally:
                sampler.stop()
            hwm_after = _vm_hwm(server.pid)
    return UploadResult(
        size_bytes=size_mib * MIB,
        baseline_rss=baseline,
        peak_rss=max(sampler.peak, baseline),
        hwm_before=hwm_before,
        hwm_after=hwm_after,
        seconds=seconds,
        samples=sampler.samples,
        execution_id=str(created["execution_id"]),
        stored_size=int(created["input_config"]["file_size"]),
    )


def report(result: UploadResult) -> tuple[list[str], list[tuple[str, str, str, bool]]]:
    mb = result.size_bytes / MIB
    lines = [
        "| File | Upload time (s) | MiB/s | RSS before (MiB) | Peak RSS (MiB) "
        "| Peak growth (MiB) | VmHWM growth (MiB) | RSS samples |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        f"| {mb:.0f} MiB | {result.seconds:.2f} | {mb / result.seconds:.0f} "
        f"| {result.baseline_rss / MIB:.1f} | {result.peak_rss / MIB:.1f} "
        f"| {result.growth / MIB:.1f} | {result.hwm_growth / MIB:.1f} | {result.samples} |",
    ]
    growth = max(result.growth, result.hwm_growth) / MIB
    checks = [
        (f"Server RSS growth, {mb:.0f} MiB upload", f"{growth:.1f} MiB", "< 64 MiB", growth < 64),
        (
            "Uploaded file stored whole",
            f"{result.stored_size:,} bytes",
            f"{result.size_bytes:,} bytes",
            result.stored_size == result.size_bytes,
        ),
    ]
    return lines, checks
