"""Single-shot convert latency: ``POST /api/v1/convert`` of a one-page PDF until a client that
polls ``request_check_url`` every 50 ms sees ``status: complete``.

The server is ``pagemill serve``'s embedded default with the real processors (the process
pool included: ``running_server(processors="standard")``). Requests are sent one at a time,
each a unique copy of the benchmark page (``onepage.unique_copy``), so the executor cache
never answers and the converter runs every time. The clock starts before the submit is sent
and stops when the poll that shows ``complete`` has been answered; the poller asks at once
after the submit is answered, then every 50 ms, as a client would. The server-side part
(execution ``created`` → ``completed_at``) is reported beside it.

    PYTHONPATH=src .venv/bin/python bench/bench_single_shot.py --requests 100
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from harness import expect, percentile, running_server
from onepage import unique_copy

POLL_SECONDS = 0.05
REQUEST_TIMEOUT_SECONDS = 30.0
TARGET_P50_MS = 60.0


@dataclass
class SingleShotResult:
    seen_ms: list[float] = field(default_factory=list)  # submit sent → complete seen
    server_ms: list[float] = field(default_factory=list)  # created → completed_at
    runtime_ms: list[float] = field(default_factory=list)  # the converter's own runtime
    polls: list[int] = field(default_factory=list)  # polls per request
    failed: int = 0
    wall_seconds: float = 0.0


def _ms(later: str, earlier: str) -> float:
    return (datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds() * 1e3


async def _one(client: httpx.AsyncClient) -> tuple[float, int, dict[str, Any], str]:
    files = {"file": ("page.pdf", unique_copy(), "application/pdf")}
    started = time.perf_counter()
    submitted = expect(await client.post("/api/v1/convert", files=files))
    url = str(submitted["request_check_url"])
    polls = 0
    deadline = time.monotonic() + REQUEST_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        body = expect(await client.get(url))
        polls += 1
        if body["status"] != "processing":
            return (time.perf_counter() - started) * 1e3, polls, body, submitted["execution_id"]
        await asyncio.sleep(POLL_SECONDS)
    raise RuntimeError(f"{url} did not finish in {REQUEST_TIMEOUT_SECONDS} s")


async def run(requests: int = 100, warmup: int = 5) -> SingleShotResult:
    result = SingleShotResult()
    async with running_server(processors="standard") as server, server.client() as client:
        for _ in range(warmup):  # the pool's children and the parsers' first use
            await _one(client)
        began = time.perf_counter()
        for _ in range(requests):
            seen, polls, body, execution_id = await _one(client)
            if body.get("status") != "complete" or not body.get("success"):
                result.failed += 1
                continue
            execution = expect(await client.get(f"/api/v1/pipelines/executions/{execution_id}"))
            result.seen_ms.append(seen)
            result.polls.append(polls)
            result.server_ms.append(_ms(execution["completed_at"], execution["created"]))
            result.runtime_ms.append(float(body.get("runtime") or 0) * 1e3)
        result.wall_seconds = time.perf_counter() - began
    return result


def report(result: SingleShotResult) -> tuple[list[str], list[tuple[str, str, str, bool]]]:
    lines = [
        "| Interval | n | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, values in (
        ("Submit sent → `complete` seen (50 ms poller)", result.seen_ms),
        ("Server: created → completed_at", result.server_ms),
        ("Converter runtime (in the worker process)", result.runtime_ms),
    ):
        lines.append(
            f"| {label} | {len(values)} | {percentile(values, 50):.1f} "
            f"| {percentile(values, 90):.1f} | {percentile(values, 99):.1f} "
            f"| {max(values, default=float('nan')):.1f} |"
        )
    lines.append("")
    lines.append(
        f"{len(result.seen_ms)} requests in {result.wall_seconds:.1f} s ({result.failed} not "
        f"complete), a unique one-page PDF each; polls per request p50 "
        f"{percentile([float(p) for p in result.polls], 50):.0f}."
    )
    p50 = percentile(result.seen_ms, 50)
    checks = [
        ("Single-shot convert seen complete, p50", f"{p50:.1f} ms", "< 60 ms", p50 < TARGET_P50_MS),
        ("Requests completed", f"{len(result.seen_ms)}", "all", result.failed == 0),
    ]
    return lines, checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the raw numbers as JSON")
    args = parser.parse_args()
    result = asyncio.run(run(args.requests, args.warmup))
    if args.json:
        print(json.dumps(result.__dict__))
        return
    lines, checks = report(result)
    print("\n".join(lines))
    for name, value, target, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {value} (target {target})")


if __name__ == "__main__":
    main()
