"""Benchmark 2: step hand-off latency (step 0 finished → step 1 running) in ``convert → segment``.

Both processors are the benchmark's instant test processors, so the latencies are pagemill's
own: ledger transactions, live-store mirroring, dispatcher wake-up and the claim. Executions
are submitted one at a time (each polled every 20 ms until it ends), so this is the latency of
an otherwise idle server.

Every execution gets a unique document, so both steps run their processor and the completion
records a cache entry: the path of new work. ``same_document=True`` submits the same bytes
every time instead; from the second execution on the executor cache answers both steps and no
processor runs (a cheaper path, reported for comparison only).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from harness import (
    TINY_PDF,
    create_pipeline,
    get_execution,
    percentile,
    run_small,
    running_server,
    unique_pdf,
)

POLL_SECONDS = 0.02
EXECUTION_TIMEOUT_SECONDS = 10.0
TERMINAL = {"completed", "completed_with_errors", "failed", "cancelled"}


@dataclass
class HandoffResult:
    handoff_ms: list[float] = field(default_factory=list)
    submit_ms: list[float] = field(default_factory=list)  # created → steps[0].started_at
    total_ms: list[float] = field(default_factory=list)  # created → completed_at
    failed: int = 0
    wall_seconds: float = 0.0
    same_document: bool = False
    cache_hits: int = 0  # measured steps the executor cache answered


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _ms(later: str, earlier: str) -> float:
    return (_ts(later) - _ts(earlier)).total_seconds() * 1000


async def _run_one(
    client: httpx.AsyncClient, pipeline_id: str, same_document: bool
) -> dict[str, Any]:
    document = TINY_PDF if same_document else unique_pdf()
    execution_id = (await run_small(client, pipeline_id, document))["execution_id"]
    deadline = time.monotonic() + EXECUTION_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        await asyncio.sleep(POLL_SECONDS)
        body, _ = await get_execution(client, execution_id)
        if body["status"] in TERMINAL:
            return body
    raise RuntimeError(f"execution {execution_id} did not finish in {EXECUTION_TIMEOUT_SECONDS} s")


async def run(
    executions: int = 200,
    warmup: int = 10,
    time_limit: float = 90.0,
    same_document: bool = False,
) -> HandoffResult:
    result = HandoffResult(same_document=same_document)
    async with running_server() as server, server.client() as client:
        pipeline_id = await create_pipeline(client, [{"type": "convert"}, {"type": "segment"}])
        for _ in range(warmup):
            await _run_one(client, pipeline_id, same_document)
        started = time.monotonic()
        for _ in range(executions):
            if time.monotonic() - started > time_limit:
                break
            body = await _run_one(client, pipeline_id, same_document)
            first, second = body["steps"]
            result.cache_hits += sum(
                (step.get("cache") or {}).get("status") == "hit" for step in (first, second)
            )
            if body["status"] != "completed" or second["started_at"] is None:
                result.failed += 1
                continue
            result.handoff_ms.append(_ms(second["started_at"], first["finished_at"]))
            result.submit_ms.append(_ms(first["started_at"], body["created"]))
            result.total_ms.append(_ms(body["completed_at"], body["created"]))
        result.wall_seconds = time.monotonic() - started
    return result


def report(result: HandoffResult) -> tuple[list[str], list[tuple[str, str, str, bool]]]:
    lines = [
        "| Interval | n | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, values in (
        ("Hand-off: steps[0].finished_at → steps[1].started_at", result.handoff_ms),
        ("Submit: created → steps[0].started_at", result.submit_ms),
        ("Whole execution: created → completed_at", result.total_ms),
    ):
        lines.append(
            f"| {label} | {len(values)} | {percentile(values, 50):.2f} "
            f"| {percentile(values, 95):.2f} | {percentile(values, 99):.2f} "
            f"| {max(values, default=float('nan')):.2f} |"
        )
    lines.append("")
    document = (
        "the same document every time (executor cache hits)"
        if result.same_document
        else "a unique document each"
    )
    lines.append(
        f"{len(result.handoff_ms)} executions measured in {result.wall_seconds:.1f} s "
        f"({result.failed} not completed), {document}; "
        f"{result.cache_hits} step(s) answered by the executor cache."
    )
    p50 = percentile(result.handoff_ms, 50)
    done = len(result.handoff_ms)
    name = "Step hand-off p50 (cache hits)" if result.same_document else "Step hand-off p50"
    checks = [
        (name, f"{p50:.2f} ms", "< 10 ms", p50 < 10),
        (
            "Executions completed",
            f"{done}/{done + result.failed}",
            "all",
            result.failed == 0 and bool(result.handoff_ms),
        ),
    ]
    return lines, checks
