"""The scale-out measurements, each runnable against the embedded server or the cluster.

A ``Target`` is one running pagemill (``bench/server.py``, or the scale-out API node with its
workers), a ``LedgerWatcher`` that tells when executions end by reading the ledger directly
(so waiting for completions costs the API nothing), and the process groups whose CPU time is
read around each measurement.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import itertools
import secrets
import sqlite3
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg

import loadgen
import onepage
from bench_get_inflight import InflightResult, _sample
from bench_handoff import TERMINAL, HandoffResult, _ms
from harness import TINY_PDF, Server, create_pipeline, expect, get_execution
from loadgen import LoadResult, measure
from scaleout.submitter import RawSubmitter, SubmitError

MiB = 1024 * 1024
FAST_PIPELINE = [{"type": "convert"}]
TWO_STEP_PIPELINE = [{"type": "convert"}, {"type": "segment"}]
SLEEP_SECONDS = 120  # the in-flight execution the GET pollers read
EXECUTION_TIMEOUT_SECONDS = 30.0


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


# -- waiting for executions -----------------------------------------------------------------


class LedgerWatcher(abc.ABC):
    """Resolves waiters when their executions reach a terminal status; one ledger query per
    ``interval`` for all of them, whatever the number of executions in flight."""

    # Often enough for the slots to resubmit promptly, rarely enough that the load generator's
    # reads (and the PostgreSQL backend answering them) stay out of the way of the system under
    # test: every 10 ms cost 0.1-0.15 cores.
    interval = 0.05

    def __init__(self) -> None:
        self._waiting: dict[str, asyncio.Future[str]] = {}
        self._task: asyncio.Task[None] | None = None
        self.failures = 0
        self.queries = 0  # statements sent (autocommit: each is a transaction to PostgreSQL)

    @abc.abstractmethod
    async def statuses(self, execution_ids: list[str]) -> dict[str, str]:
        """The current status of each execution found."""

    async def open(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def wait(self, execution_id: str, timeout: float = EXECUTION_TIMEOUT_SECONDS) -> str:
        """The terminal status of ``execution_id``, or ``"timeout"``."""
        future = self._waiting.setdefault(execution_id, asyncio.get_running_loop().create_future())
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            return "timeout"
        finally:
            if future.done():
                self._waiting.pop(execution_id, None)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            ids = [i for i, f in self._waiting.items() if not f.done()]
            if not ids:
                continue
            try:
                found = await self.statuses(ids)
            except Exception:  # a blip reading the ledger: try again next tick
                self.failures += 1
                continue
            for execution_id, status in found.items():
                future = self._waiting.get(execution_id)
                if status in TERMINAL and future is not None and not future.done():
                    future.set_result(status)


class PostgresWatcher(LedgerWatcher):
    def __init__(self, database_url: str) -> None:
        super().__init__()
        self._url = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
        self._conn: psycopg.AsyncConnection[Any] | None = None

    @property
    def backend_pid(self) -> int | None:
        return self._conn.info.backend_pid if self._conn is not None else None

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        if self._conn is None or self._conn.closed or self._conn.broken:
            if self._conn is not None:
                await self._conn.close()
            self._conn = await psycopg.AsyncConnection.connect(
                self._url, autocommit=True, connect_timeout=5
            )
        return self._conn

    async def open(self) -> None:
        await self._connect()
        await super().open()

    async def close(self) -> None:
        await super().close()
        if self._conn is not None:
            await self._conn.close()

    async def _query(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """One read; after a lost connection (a PostgreSQL restart) reconnect and retry once."""
        for attempt in (1, 2):
            try:
                conn = await self._connect()
                cursor = await conn.execute(query, params)  # type: ignore[arg-type]
                return await cursor.fetchall()
            except psycopg.OperationalError:
                if attempt == 2:
                    raise
                await asyncio.sleep(1.0)
        raise AssertionError("unreachable")

    async def completed(self) -> list[str]:
        """Every completed execution in the ledger."""
        rows = await self._query("SELECT execution_id FROM executions WHERE status = 'completed'")
        return [str(r[0]) for r in rows]

    async def statuses(self, execution_ids: list[str]) -> dict[str, str]:
        self.queries += 1
        rows = await self._query(
            "SELECT execution_id, status FROM executions WHERE execution_id = ANY(%s)",
            (execution_ids,),
        )
        return {str(r[0]): str(r[1]) for r in rows}


class SqliteWatcher(LedgerWatcher):
    """Reads the embedded server's SQLite ledger (WAL mode: a reader does not block it)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._path = path
        self._conn: sqlite3.Connection | None = None

    async def open(self) -> None:
        self._conn = sqlite3.connect(
            f"file:{self._path}?mode=ro", uri=True, check_same_thread=False, timeout=1.0
        )
        await super().open()

    async def close(self) -> None:
        await super().close()
        if self._conn is not None:
            self._conn.close()

    async def statuses(self, execution_ids: list[str]) -> dict[str, str]:
        return await asyncio.to_thread(self._read, execution_ids)

    def _read(self, execution_ids: list[str]) -> dict[str, str]:
        assert self._conn is not None
        found: dict[str, str] = {}
        for start in range(0, len(execution_ids), 500):
            chunk = execution_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                f"SELECT execution_id, status FROM executions WHERE execution_id IN ({marks})",
                chunk,
            ).fetchall()
            found.update({str(r[0]): str(r[1]) for r in rows})
        return found


# -- CPU accounting -------------------------------------------------------------------------

PidSource = Callable[[], set[int]]


def _cpu_seconds(pid: int) -> float | None:
    """The CPU of ``pid`` and of its children that ended and were waited for (a recycled
    process-pool child, whose CPU would otherwise vanish with it)."""
    try:
        times = psutil.Process(pid).cpu_times()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    return float(times.user + times.system + times.children_user + times.children_system)


def _parent(pid: int) -> int | None:
    try:
        return psutil.Process(pid).ppid()
    except psutil.Error:
        return None


def _self_cpu_seconds() -> float:
    t = psutil.Process().cpu_times()  # children: wrk runs are waited for, so they count
    return float(t.user + t.system + t.children_user + t.children_system)


def _machine_busy_seconds() -> float:
    t = psutil.cpu_times()
    return float(t.user + t.nice + t.system + getattr(t, "irq", 0) + getattr(t, "softirq", 0))


@dataclass
class CpuUsage:
    wall: float
    groups: dict[str, float]  # name → CPU seconds
    machine_busy: float  # CPU seconds used by everything on the machine

    def cores(self, name: str) -> float:
        return self.groups.get(name, 0.0) / self.wall if self.wall else 0.0

    @property
    def other(self) -> float:
        return max(0.0, self.machine_busy - sum(self.groups.values()))


class CpuMeter:
    """CPU time of named process groups between ``start`` and ``stop`` (psutil).

    A group's PIDs are read at both ends, so PostgreSQL backends that connect meanwhile count
    too (from their start). The benchmark's own process (with ``wrk``) is ``bench client``.
    """

    def __init__(self, groups: dict[str, PidSource]) -> None:
        self._groups = groups
        self._start: dict[str, dict[int, float]] = {}
        self._parents: dict[int, int | None] = {}
        self._t0 = 0.0
        self._self0 = 0.0
        self._busy0 = 0.0

    def _read(self, pids: set[int]) -> dict[int, float]:
        out = {}
        for pid in pids:
            seconds = _cpu_seconds(pid)
            if seconds is not None:
                out[pid] = seconds
        return out

    def start(self) -> None:
        self._start = {name: self._read(source()) for name, source in self._groups.items()}
        self._parents = {pid: _parent(pid) for pids in self._start.values() for pid in pids}
        self._t0 = time.monotonic()
        self._self0 = _self_cpu_seconds()
        self._busy0 = _machine_busy_seconds()

    def stop(self) -> CpuUsage:
        wall = time.monotonic() - self._t0
        groups: dict[str, float] = {}
        for name, source in self._groups.items():
            before = self._start.get(name, {})
            now = self._read(source() | set(before))
            total = sum(max(0.0, cpu - before.get(pid, 0.0)) for pid, cpu in now.items())
            # A child that ended in the window (a recycled pool process) is now in its parent's
            # children times for its whole life: take off what it had used before the window.
            total -= sum(
                cpu for pid, cpu in before.items() if pid not in now and self._parents[pid] in now
            )
            groups[name] = max(0.0, total)
        groups["bench client (+wrk)"] = _self_cpu_seconds() - self._self0
        return CpuUsage(wall, groups, _machine_busy_seconds() - self._busy0)


async def wait_quiet(
    groups: dict[str, PidSource],
    *,
    threshold: float,
    timeout: float,
    progress: Callable[[str], None],
) -> float:
    """Wait (at most ``timeout`` s) until the rest of the machine (not the processes under test,
    not this one) uses less than ``threshold`` cores over 2 s; return that last reading."""
    deadline = time.monotonic() + timeout
    waited = False
    while True:
        meter = CpuMeter(groups)
        meter.start()
        await asyncio.sleep(2.0)
        usage = meter.stop()
        other = usage.other / usage.wall
        if other < threshold or time.monotonic() >= deadline:
            if waited:
                progress(f"  (the rest of the machine now uses {other:.2f} cores)")
            return other
        if not waited:
            progress(f"  waiting for a quieter machine: other processes use {other:.2f} cores")
            waited = True


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


@contextlib.contextmanager
def paced_wrk(delay_ms: int) -> Iterator[bool]:
    """Make ``loadgen.measure`` pause between a connection's requests (wrk's ``delay()``), so
    each connection is a poller rather than a closed loop. The pause is uniform in
    [0.5, 1.5] x ``delay_ms``: a fixed pause would keep all connections in lock-step and send
    every poll in bursts of ``connections``, which no fleet of real clients does. Yields False
    when ``wrk`` is missing (the asyncio fallback cannot pace)."""
    if loadgen.tool_name() != "wrk":
        yield False
        return
    with tempfile.TemporaryDirectory(prefix="pagemill-wrk-") as tmp:
        script = Path(tmp) / "paced.lua"
        script.write_text(
            f"dofile({str(loadgen.WRK_SCRIPT)!r})\n"
            "function init(args)\n"
            "  math.randomseed(os.time() + math.floor(os.clock() * 1e6))\n"
            "end\n"
            f"function delay()\n  return math.floor({int(delay_ms)} * (0.5 + math.random()))\n"
            "end\n"
        )
        original = loadgen.WRK_SCRIPT
        loadgen.WRK_SCRIPT = script
        try:
            yield True
        finally:
            loadgen.WRK_SCRIPT = original


@dataclass
class GetResult:
    label: str
    live: str
    paced: LoadResult | None  # 32 pollers, each pausing between polls
    closed: LoadResult  # 32 clients back to back
    paced_cpu: CpuUsage | None
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
        paced = paced_cpu = None
        async with background_work(target, client, background_rate) as work:
            with paced_wrk(poll_interval_ms) as can_pace:
                if can_pace:
                    await measure(url, headers, connections, warmup)
                    stop = asyncio.Event()
                    sampler = asyncio.create_task(_sample(client, execution_id, samples, stop))
                    meter.start()
                    try:
                        paced = await measure(url, headers, connections, duration)
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


# -- 4. soak --------------------------------------------------------------------------------


@dataclass
class RssSeries:
    samples: list[tuple[float, int]] = field(default_factory=list)  # (seconds, bytes)

    def after(self, seconds: float) -> list[tuple[float, int]]:
        return [s for s in self.samples if s[0] >= seconds] or self.samples[-1:]

    def slope_mib_per_min(self, warmup: float) -> float:
        points = self.after(warmup)
        if len(points) < 2:
            return 0.0
        xs = [t / 60 for t, _ in points]
        ys = [rss / MiB for _, rss in points]
        return float(statistics.linear_regression(xs, ys).slope)

    def growth(self, warmup: float) -> float:
        """End RSS over the first RSS after the warm-up, minus one."""
        points = self.after(warmup)
        return points[-1][1] / points[0][1] - 1 if points and points[0][1] else 0.0


@dataclass
class SoakResult:
    minutes: float
    rate: float
    poll_interval: float
    warmup_seconds: float
    drain_seconds: float = 0.0
    submitted: int = 0
    post_requests: int = 0
    get_requests: int = 0
    post_errors: dict[str, int] = field(default_factory=dict)
    get_errors: dict[str, int] = field(default_factory=dict)
    final_status: dict[str, int] = field(default_factory=dict)
    lost: int = 0
    handoff: HandoffResult = field(default_factory=HandoffResult)
    rss: dict[str, RssSeries] = field(default_factory=dict)
    cpu: CpuUsage | None = None
    get_latency_ms: list[float] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(self.post_errors.values()) + sum(self.get_errors.values())


def _count(errors: dict[str, int], key: str) -> None:
    errors[key] = errors.get(key, 0) + 1


async def soak(
    target: Target,
    pids: Callable[[], dict[str, int]],
    *,
    minutes: float,
    rate: float,
    poll_interval: float,
    rss_interval: float,
    drain_timeout: float,
    progress: Callable[[str], None],
) -> SoakResult:
    """Submit ``convert → segment`` at ``rate``/s for ``minutes``; poll each execution every
    ``poll_interval`` s like an SDK client until it ends; sample every node's RSS."""
    seconds = minutes * 60
    warmup = min(max(60.0, seconds * 0.1), seconds / 2)
    result = SoakResult(minutes, rate, poll_interval, warmup)
    submitted: list[str] = []
    meter = CpuMeter(target.cpu_groups)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(
        base_url=target.server.base_url,
        headers={"X-API-Key": target.server.api_key},
        timeout=30,
        limits=limits,
    ) as client:
        pipeline_id = await create_pipeline(client, TWO_STEP_PIPELINE)
        start = time.monotonic()
        end = start + seconds
        give_up = end + drain_timeout

        async def one() -> None:
            result.post_requests += 1
            try:
                execution_id = await target.submit(client, pipeline_id)
            except httpx.HTTPError as error:
                _count(result.post_errors, type(error).__name__)
                return
            except RuntimeError as error:  # a non-2xx answer (harness.expect)
                _count(result.post_errors, str(error).split(":", 1)[0][-3:])
                return
            submitted.append(execution_id)
            while time.monotonic() < give_up:
                await asyncio.sleep(poll_interval)
                result.get_requests += 1
                sent = time.perf_counter()
                try:
                    response = await client.get(f"/api/v1/pipelines/executions/{execution_id}")
                except httpx.HTTPError as error:
                    _count(result.get_errors, type(error).__name__)
                    continue
                result.get_latency_ms.append((time.perf_counter() - sent) * 1000)
                if not 200 <= response.status_code < 300:
                    _count(result.get_errors, str(response.status_code))
                    continue
                body = response.json()
                if body["status"] in TERMINAL:
                    record_handoff(result.handoff, body)
                    return

        async def sample_rss() -> None:
            while True:
                at = time.monotonic() - start
                for name, pid in pids().items():
                    with contextlib.suppress(psutil.NoSuchProcess):
                        rss = psutil.Process(pid).memory_info().rss
                        result.rss.setdefault(name, RssSeries()).samples.append((at, rss))
                await asyncio.sleep(rss_interval)

        async def report_progress() -> None:
            while True:
                await asyncio.sleep(60)
                elapsed = time.monotonic() - start
                progress(
                    f"  soak {elapsed / 60:.0f}/{minutes:g} min: {len(submitted)} submitted, "
                    f"{result.errors} errors"
                )

        sampler = asyncio.create_task(sample_rss())
        reporter = asyncio.create_task(report_progress())
        tasks: set[asyncio.Task[None]] = set()
        meter.start()
        try:
            for n in itertools.count():
                at = start + n / rate
                if at >= end:
                    break
                await asyncio.sleep(max(0.0, at - time.monotonic()))
                task = asyncio.create_task(one())
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            result.cpu = meter.stop()
            drain_start = time.monotonic()
            if tasks:
                await asyncio.wait(set(tasks), timeout=max(1.0, give_up - time.monotonic()))
            result.drain_seconds = time.monotonic() - drain_start
        finally:
            for task in (*tasks, reporter, sampler):
                task.cancel()
            for task in (*tasks, reporter, sampler):
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        at = time.monotonic() - start
        for name, pid in pids().items():
            with contextlib.suppress(psutil.NoSuchProcess):
                rss = psutil.Process(pid).memory_info().rss
                result.rss.setdefault(name, RssSeries()).samples.append((at, rss))
    result.submitted = len(submitted)
    statuses = await target.watcher.statuses(submitted)
    for execution_id in submitted:
        status = statuses.get(execution_id, "missing")
        result.final_status[status] = result.final_status.get(status, 0) + 1
    result.lost = sum(n for s, n in result.final_status.items() if s != "completed")
    return result
