"""Where the time of ``GET …/executions/{id}`` goes, in-process (no HTTP): a diagnostic.

    .venv/bin/python bench/diagnose_get.py

Opens a runtime on a temp data dir (no workers), starts one execution and claims its step so it
is in flight, then times the pieces of the read path on uvloop (the service call, the ledger
read alone, one thread hop, the same row read with plain sqlite3) and counts the aiosqlite
worker-thread round trips of one ledger read. Not part of ``run_all.py``: run it after
changing the read path.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_processors import RELEASE, SleepyConvert
from pagemill.adapters.compute import InlineComputePool
from pagemill.bootstrap import open_runtime
from pagemill.processors.registry import ProcessorRegistry
from pagemill.services.executions import RunOptions
from pagemill.settings import Settings

ROUNDS = 2000


async def _timed(label: str, call: Callable[[], Awaitable[Any]]) -> None:
    for _ in range(200):
        await call()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(ROUNDS):
        await call()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"| {label} | {1e6 * wall / ROUNDS:.1f} | {1e6 * cpu / ROUNDS:.1f} |")


async def _document() -> AsyncIterator[bytes]:
    yield b"%PDF-1.4\n"


def _count_aiosqlite_hops() -> tuple[list[str], Callable[[], None]]:
    """Record each call aiosqlite sends to its worker thread; return the list and an undo."""
    import aiosqlite.core as core

    calls: list[str] = []
    original: Any = core.Connection._execute

    async def counting(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(fn, "__qualname__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    core.Connection._execute = counting  # type: ignore[method-assign]

    def undo() -> None:
        core.Connection._execute = original  # type: ignore[method-assign]

    return calls, undo


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="pagemill-diagnose-") as tmp:
        settings = Settings(data_dir=Path(tmp), database_url=None, workers=0)
        registry = ProcessorRegistry([SleepyConvert()])
        async with open_runtime(
            settings, compute=InlineComputePool(), processors=registry
        ) as runtime:
            services = runtime.services
            issued = await services.keys.issue("bench")
            team = issued.team.id
            pipeline = await services.pipelines.create(
                team, [{"type": "convert", "settings": {"sleep_seconds": 120}}]
            )
            document = await services.executions.receive_upload(_document(), team)
            view = await services.executions.run(
                team,
                pipeline.pipeline_id,
                RunOptions(),
                document.renamed("bench.pdf", "application/pdf"),
            )
            execution_id = view.execution.execution_id
            # Claimed, not run: the step stays in flight while the reads are timed.
            claim = await runtime.ledger.steps.claim_next(
                "diagnose", runtime.clock.now(), 3600, None
            )
            if claim is None:
                raise RuntimeError("the step could not be claimed")
            await services.runner.publish(claim.snapshot)
            view = await services.executions.get(team, execution_id)
            print(f"In flight: step 0 {view.steps[0].status.value}, source {view.source}\n")

            print("| Piece of the read path | wall (µs) | CPU (µs) |")
            print("|---|---:|---:|")
            await _timed(
                "ExecutionService.get (ledger row + live)",
                lambda: services.executions.get(team, execution_id),
            )
            await _timed(
                "ExecutionLedger.get alone",
                lambda: runtime.ledger.executions.get(execution_id, team),
            )
            await _timed(
                "KeyService.authenticate (cached)",
                lambda: services.keys.authenticate(issued.secret),
            )
            await _timed(
                "one asyncio.to_thread hop (no-op)", lambda: asyncio.to_thread(lambda: None)
            )
            direct = sqlite3.connect(settings.data_dir / "pagemill.db", check_same_thread=False)
            select = "SELECT * FROM executions WHERE execution_id = ? AND team_id = ?"

            async def direct_read() -> Any:
                return direct.execute(select, (execution_id, team)).fetchone()

            await _timed("same row, plain sqlite3 on the event loop (the floor)", direct_read)
            direct.close()

            calls, undo = _count_aiosqlite_hops()
            try:
                await runtime.ledger.executions.get(execution_id, team)
            finally:
                undo()
            print(
                f"\naiosqlite thread round trips per ExecutionLedger.get: {len(calls)} "
                f"({', '.join(calls)})"
            )
            RELEASE.set()


if __name__ == "__main__":
    uvloop.run(main())
