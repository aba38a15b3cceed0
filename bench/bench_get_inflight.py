"""Benchmark 1: GET an execution whose step is running, next to a bare endpoint of the app.

The pipeline is one ``convert`` step that sleeps 120 s, so the execution stays in flight (and
is answered from the live store: ``X-Pagemill-Source: live``) for the whole measurement.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

import httpx
import psutil

from harness import create_pipeline, get_execution, run_small, running_server
from loadgen import LoadResult, measure

SLEEP_SECONDS = 120
CONNECTIONS = (1, 32)
IN_FLIGHT_TIMEOUT_SECONDS = 15.0


@dataclass
class InflightResult:
    results: dict[tuple[str, int], LoadResult]
    cpu_us: dict[tuple[str, int], float] = field(default_factory=dict)  # server CPU / request
    sources: dict[str, int] = field(default_factory=dict)  # X-Pagemill-Source → count
    statuses: dict[str, int] = field(default_factory=dict)  # steps[0].status → count

    def ratio(self, connections: int) -> float:
        bare = self.results[("bare", connections)].rps
        return self.results[("execution", connections)].rps / bare if bare else 0.0

    @property
    def all_live(self) -> bool:
        return set(self.sources) == {"live"} and set(self.statuses) == {"running"}


async def _wait_in_flight(client: httpx.AsyncClient, execution_id: str) -> None:
    deadline = time.monotonic() + IN_FLIGHT_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        body, source = await get_execution(client, execution_id)
        if body["steps"][0]["status"] == "running" and source == "live":
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"execution {execution_id} did not reach a running step from live")


async def _sample(
    client: httpx.AsyncClient, execution_id: str, result: InflightResult, stop: asyncio.Event
) -> None:
    """Read the execution every 100 ms while the load runs; count sources and step statuses."""
    while not stop.is_set():
        body, source = await get_execution(client, execution_id)
        result.sources[str(source)] = result.sources.get(str(source), 0) + 1
        status = str(body["steps"][0]["status"])
        result.statuses[status] = result.statuses.get(status, 0) + 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.1)


async def run(duration: float = 5.0, warmup: float = 2.0) -> InflightResult:
    async with running_server() as server, server.client() as client:
        pipeline_id = await create_pipeline(
            client, [{"type": "convert", "settings": {"sleep_seconds": SLEEP_SECONDS}}]
        )
        execution_id = (await run_small(client, pipeline_id))["execution_id"]
        await _wait_in_flight(client, execution_id)
        urls = {
            "bare": f"{server.base_url}/bench/constant",
            "execution": f"{server.base_url}/api/v1/pipelines/executions/{execution_id}",
        }
        headers = {"X-API-Key": server.api_key}
        result = InflightResult(results={})
        process = psutil.Process(server.pid)
        for connections in CONNECTIONS:
            for name, url in urls.items():
                if warmup > 0:
                    await measure(url, headers, connections, warmup)
                stop = asyncio.Event()
                sampler = None
                if name == "execution":
                    sampler = asyncio.create_task(_sample(client, execution_id, result, stop))
                before = process.cpu_times()
                try:
                    load = await measure(url, headers, connections, duration)
                finally:
                    stop.set()
                    if sampler is not None:
                        await sampler
                after = process.cpu_times()
                cpu = (after.user - before.user) + (after.system - before.system)
                result.results[(name, connections)] = load
                result.cpu_us[(name, connections)] = 1e6 * cpu / max(1, load.requests)
        return result


def report(result: InflightResult) -> tuple[list[str], list[tuple[str, str, str, bool]]]:
    lines = [
        "| Endpoint | Clients | Requests/s | p50 (ms) | p90 (ms) | p99 (ms) | Errors "
        "| Server CPU/request (µs) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for connections in CONNECTIONS:
        for name, label in (
            ("bare", "`GET /bench/constant` (bare)"),
            ("execution", "`GET …/executions/{id}` (in flight)"),
        ):
            r = result.results[(name, connections)]
            lines.append(
                f"| {label} | {connections} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p90_ms:.2f} "
                f"| {r.p99_ms:.2f} | {r.errors} | {result.cpu_us[(name, connections)]:.0f} |"
            )
    samples = sum(result.sources.values())
    lines.append("")
    lines.append(
        f"Sampled {samples} in-flight responses during the load: sources {result.sources}, "
        f"step statuses {result.statuses}."
    )
    checks: list[tuple[str, str, str, bool]] = []
    for connections in CONNECTIONS:
        ratio = result.ratio(connections)
        checks.append(
            (
                f"GET in flight / bare throughput, {connections} client(s)",
                f"{ratio:.0%}",
                "≥ 50%",
                ratio >= 0.5,
            )
        )
    p99 = result.results[("execution", 1)].p99_ms
    checks.append(("GET in flight p99, 1 client", f"{p99:.2f} ms", "< 10 ms", p99 < 10))
    errors = sum(r.errors for r in result.results.values())
    checks.append(
        (
            "In-flight responses came from the live store, no errors",
            "yes" if result.all_live and errors == 0 else f"no ({result.sources}, {errors} errors)",
            "live, 0 errors",
            result.all_live and errors == 0,
        )
    )
    return lines, checks
