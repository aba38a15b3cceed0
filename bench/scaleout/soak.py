"""The soak: steady submissions and polling for minutes, with every node's RSS sampled."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import psutil

from bench_handoff import TERMINAL, HandoffResult
from harness import create_pipeline
from scaleout.cpu import CpuMeter, CpuUsage
from scaleout.measure import TWO_STEP_PIPELINE, MiB, Target, record_handoff


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
