"""The scale-out measurements, each runnable against the embedded server or the cluster.

A ``Target`` is one running pagemill (``bench/server.py``, or the scale-out API node with its
workers), a ``LedgerWatcher`` that tells when executions end (``watchers``), and the process
groups whose CPU time is read around each measurement (``cpu``). The soak is in ``soak``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

import onepage
from bench_get_inflight import InflightResult, _sample
from bench_handoff import HandoffResult, _ms
from harness import TINY_PDF, Server, create_pipeline, expect, get_execution
from loadgen import LoadResult, measure
from scaleout.cpu import CpuMeter, CpuUsage, PidSource
from scaleout.submitter import RawSubmitter, SubmitError
from scaleout.watchers import EXECUTION_TIMEOUT_SECONDS, LedgerWatcher

MiB = 1024 * 1024
FAST_PIPELINE = [{"type": "convert"}]
TWO_STEP_PIPELINE = [{"type": "convert"}, {"type": "segment"}]
SLEEP_SECONDS = 120  # the in-flight execution the GET pollers read


def tiny_unique_pdf() -> bytes:
    """Unique bytes per document: the executor cache must not answer instead of the worker."""
    return TINY_PDF + f"% {secrets.token_hex(8)}\n".encode()


@dataclass(frozen=True)
class Workload:
    """What one execution of a throughput measurement is: a pipeline and a fresh document."""

    name: str
    pipeline: list[dict[str, Any]]
    document: Callable[[], bytes]
    slow: bool = False  # about a second per execution: fewer in flight, longer windows


# The benchmark's instant test processor: only pagemill's own costs (needs ``bench`` nodes).
INSTANT = Workload("instant", FAST_PIPELINE, tiny_unique_pdf)
# pagemill's real ``convert`` of a one-page report (needs ``standard`` nodes) ...
ONE_PAGE = Workload("one-page", FAST_PIPELINE, onepage.unique_copy)
# ... and of the same page scanned (OCR).
ONE_PAGE_SCAN = Workload("one-page scan", FAST_PIPELINE, onepage.unique_scan, slow=True)


# -- targets --------------------------------------------------------------------------------


@dataclass
class Target:
    """One running pagemill under test."""

    label: str
    server: Server
    watcher: LedgerWatcher
    cpu_groups: dict[str, PidSource]
    live: str  # the live store: "memory" or "redis"
    live_shared: bool  # False: per-process memory stores in scale-out, the API reads the ledger
    execution_ids: set[str] = field(default_factory=set)  # every execution submitted
    db_counters: Callable[[], dict[str, int]] | None = None  # PostgreSQL transaction counters

    async def submit(
        self, client: httpx.AsyncClient, pipeline_id: str, document: bytes | None = None
    ) -> str:
        files = {"file": ("bench.pdf", document or tiny_unique_pdf(), "application/pdf")}
        body = expect(await client.post(f"/api/v1/pipelines/{pipeline_id}/run", files=files))
        execution_id = str(body["execution_id"])
        self.execution_ids.add(execution_id)
        return execution_id


# -- 1. executions per second ---------------------------------------------------------------


@dataclass
class ThroughputResult:
    label: str
    in_flight: int
    seconds: float
    completed: int = 0
    errors: int = 0  # failed submissions, failed or timed-out executions
    latency_ms: list[float] = field(default_factory=list)  # submit → seen completed
    cpu: CpuUsage | None = None
    db: dict[str, int] = field(default_factory=dict)  # counter deltas during the window

    @property
    def rate(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0


async def throughput(
    target: Target, workload: Workload, *, in_flight: int, warmup: float, duration: float
) -> ThroughputResult:
    """Keep ``in_flight`` executions of ``workload`` going; count those that end in the window."""
    result = ThroughputResult(target.label, in_flight, duration)
    meter = CpuMeter(target.cpu_groups)
    async with target.server.client() as client:
        pipeline_id = await create_pipeline(client, workload.pipeline)
    submitter = RawSubmitter(target.server.base_url, target.server.api_key)
    try:
        begin = time.monotonic() + warmup
        end = begin + duration

        async def slot() -> None:
            while time.monotonic() < end:
                sent = time.monotonic()
                try:
                    execution_id = await submitter.run(pipeline_id, workload.document())
                    target.execution_ids.add(execution_id)
                except SubmitError:
                    result.errors += 1
                    await asyncio.sleep(0.1)
                    continue
                status = await target.watcher.wait(execution_id)
                seen = time.monotonic()
                if status != "completed":
                    result.errors += 1
                elif begin <= seen < end:
                    result.completed += 1
                    result.latency_ms.append((seen - sent) * 1000)

        async def window() -> None:
            counters = target.db_counters
            await asyncio.sleep(max(0.0, begin - time.monotonic()))
            meter.start()
            before = await asyncio.to_thread(counters) if counters else {}
            queries = target.watcher.queries
            await asyncio.sleep(max(0.0, end - time.monotonic()))
            result.cpu = meter.stop()
            if counters:
                after = await asyncio.to_thread(counters)
                result.db = {k: after[k] - before.get(k, 0) for k in after}
                # The watcher's own reads are autocommit transactions: not pagemill's.
                result.db["commits"] -= target.watcher.queries - queries

        await asyncio.gather(window(), *(slot() for _ in range(in_flight)))
    finally:
        await submitter.close()
    return result


# -- 2. step hand-off -----------------------------------------------------------------------


def record_handoff(result: HandoffResult, body: dict[str, Any]) -> None:
    """Add one finished two-step execution's intervals (the ledger's timestamps)."""
    first, second = body["steps"][:2]
    if body["status"] != "completed" or second.get("started_at") is None:
        result.failed += 1
        return
    result.handoff_ms.append(_ms(second["started_at"], first["finished_at"]))
    result.submit_ms.append(_ms(first["started_at"], body["created"]))
    result.total_ms.append(_ms(body["completed_at"], body["created"]))


async def handoff(
    target: Target, *, executions: int, warmup: int, time_limit: float = 120.0
) -> tuple[HandoffResult, CpuUsage]:
    """``convert → segment`` executions one at a time on an otherwise idle system."""
    result = HandoffResult()
    meter = CpuMeter(target.cpu_groups)
    async with target.server.client() as client:
        pipeline_id = await create_pipeline(client, TWO_STEP_PIPELINE)
        started = time.monotonic()
        for index in range(warmup + executions):
            if index == warmup:
                started = time.monotonic()
                meter.start()
            if time.monotonic() - started > time_limit:
                break
            execution_id = await target.submit(client, pipeline_id)
            await target.watcher.wait(execution_id)
            body, _ = await get_execution(client, execution_id)
            if index >= warmup:
                record_handoff(result, body)
        result.wall_seconds = time.monotonic() - started
    return result, meter.stop()


# -- 3. GET an in-flight execution while work runs ------------------------------------------


@dataclass
class BackgroundWork:
    submitted: int = 0
    completed: int = 0
    errors: int = 0


@contextlib.asynccontextmanager
async def background_work(
    target: Target, client: httpx.AsyncClient, rate: float, limit: int = 64
) -> AsyncIterator[BackgroundWork]:
    """Submit one-step executions at ``rate``/s (at most ``limit`` in flight) until exit."""
    work = BackgroundWork()
    pipeline_id = await create_pipeline(client, FAST_PIPELINE)
    gate = asyncio.Semaphore(limit)
    tasks: set[asyncio.Task[None]] = set()

    async def one() -> None:
        async with gate:
            try:
                execution_id = await target.submit(client, pipeline_id)
            except (httpx.HTTPError, RuntimeError):
                work.errors += 1
                return
            work.submitted += 1
            if await target.watcher.wait(execution_id) == "completed":
                work.completed += 1
            else:
                work.errors += 1

    async def pace() -> None:
        start = time.monotonic()
        for n in itertools.count():
            await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
            task = asyncio.create_task(one())
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    pacer = asyncio.create_task(pace())
    try:
        yield work
    finally:
        pacer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pacer
        if tasks:
            await asyncio.wait(set(tasks), timeout=EXECUTION_TIMEOUT_SECONDS)
        for task in tasks:
            task.cancel()


@dataclass
class GetResult:
    label: str
    live: str
    paced: LoadResult  # 32 pollers, each pausing between polls
    closed: LoadResult  # 32 clients back to back
    paced_cpu: CpuUsage
    poll_interval_ms: int
    sources: dict[str, int]
    statuses: dict[str, int]
    background: BackgroundWork


async def _wait_running(client: httpx.AsyncClient, execution_id: str, source: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        body, got = await get_execution(client, execution_id)
        if body["steps"][0]["status"] == "running" and got == source:
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"execution {execution_id} did not show a running step from {source}")


async def get_under_load(
    target: Target,
    *,
    connections: int,
    poll_interval_ms: int,
    background_rate: float,
    warmup: float,
    duration: float,
) -> GetResult:
    async with target.server.client() as client:
        sleepy = await create_pipeline(
            client, [{"type": "convert", "settings": {"sleep_seconds": SLEEP_SECONDS}}]
        )
        execution_id = await target.submit(client, sleepy)
        # With a shared live store the API answers from it; a per-process memory store in
        # scale-out never sees the workers' writes, so there the ledger answers.
        expected = "live" if target.live_shared else "ledger"
        await _wait_running(client, execution_id, expected)
        url = f"{target.server.base_url}/api/v1/pipelines/executions/{execution_id}"
        headers = {"X-API-Key": target.server.api_key}
        samples = InflightResult(results={})
        meter = CpuMeter(target.cpu_groups)
        async with background_work(target, client, background_rate) as work:
            await measure(url, headers, connections, warmup, pause_ms=poll_interval_ms)
            stop = asyncio.Event()
            sampler = asyncio.create_task(_sample(client, execution_id, samples, stop))
            meter.start()
            try:
                paced = await measure(url, headers, connections, duration, poll_interval_ms)
            finally:
                paced_cpu = meter.stop()
                stop.set()
                await sampler
            closed = await measure(url, headers, connections, duration)
        expect(await client.post(f"/api/v1/pipelines/executions/{execution_id}/cancel"))
    return GetResult(
        target.label,
        target.live,
        paced,
        closed,
        paced_cpu,
        poll_interval_ms,
        samples.sources,
        samples.statuses,
        work,
    )
