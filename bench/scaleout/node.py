"""One node of the benchmark cluster, with the benchmark's fast test processors.

    PAGEMILL_DATABASE_URL=postgresql://… PAGEMILL_LIVE_URL=redis://… PAGEMILL_BLOB_DIR=/shared \\
        .venv/bin/python bench/scaleout/node.py api --port 8123 --data-dir /tmp/api
    … .venv/bin/python bench/scaleout/node.py worker --concurrency 4 --data-dir /tmp/w1

Settings come from the environment (``PAGEMILL_*``), as for ``pagemill serve``/``worker``:

- ``api`` is ``pagemill serve --workers 0``: ``bench/server.py``'s app (``open_runtime`` with
  the test processors → ``create_app``, plus ``GET /bench/constant``) under uvicorn, with no
  in-process workers. It only accepts work and answers reads.
- ``worker`` is ``pagemill worker --concurrency N``: ``open_runtime`` with the test processors,
  then ``run_queue_worker`` until SIGTERM/SIGINT, when running steps are released as the CLI
  does. It prints ``pagemill worker serving`` once the queue worker task has started.

``--processors bench`` (the default) uses the benchmark's test processors
(``bench/bench_processors.py``), so the numbers measure pagemill's own costs, not PDF parsing.
``--processors standard`` uses pagemill's real processors and, in a worker, the real process
pool (``PAGEMILL_PROCESS_POOL_SIZE`` children), as ``pagemill serve``/``worker`` do.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import logging
import re
import sys
import threading
from pathlib import Path
from typing import Any

import psycopg
import uvicorn
from psycopg.pq import TransactionStatus

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_processors import RELEASE, FastSegment, SleepyConvert
from pagemill.adapters.compute import InlineComputePool
from pagemill.bootstrap import open_runtime
from pagemill.cli import _run_until_signal
from pagemill.processors.registry import ProcessorRegistry
from pagemill.settings import Settings
from pagemill.worker.runner import run_queue_worker
from server import build_app

READY_TEXT = "pagemill worker serving"
LOOPBACK = ("127.0.0.1", "::1", "localhost")
SQL_COUNT_PREFIX = "SQLCOUNT "
_SQL_LABEL = re.compile(
    r"^\s*(?:(SELECT)\s+(?:\S+\s+)*?(?:FROM\s+(\w+)|(\w+)\()|(INSERT INTO|UPDATE|DELETE FROM)"
    r"\s+(\w+)|(\w+))",
    re.IGNORECASE | re.DOTALL,
)


def _label(query: Any) -> str:
    text = query if isinstance(query, str) else getattr(query, "as_string", lambda: "")()
    if isinstance(query, bytes):
        text = query.decode(errors="replace")
    text = " ".join(str(text).split())
    match = _SQL_LABEL.match(text[:400])
    if match is None or not (match[2] or match[3] or match[5]):
        return text[:40] or f"<{type(query).__name__}>"
    verb = (match[1] or match[4] or match[6] or "?").upper()
    return f"{verb} {match[2] or match[3] or match[5]}"


def count_sql(interval: float = 1.0) -> None:
    """Count this process's PostgreSQL round trips by kind (statements, implicit BEGINs,
    COMMITs, ROLLBACKs) and print the running totals as ``SQLCOUNT {json}`` every
    ``interval`` s. Wraps psycopg's public async cursor/connection methods; for profiling."""
    counts: collections.Counter[str] = collections.Counter()
    execute = psycopg.AsyncCursor.execute
    executemany = psycopg.AsyncCursor.executemany
    commit = psycopg.AsyncConnection.commit
    rollback = psycopg.AsyncConnection.rollback

    def begins(cursor: Any) -> None:
        conn = cursor.connection
        if not conn.autocommit and conn.info.transaction_status == TransactionStatus.IDLE:
            counts["BEGIN"] += 1

    async def counted_execute(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        begins(self)
        counts[_label(query)] += 1
        return await execute(self, query, *args, **kwargs)

    async def counted_executemany(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        begins(self)
        counts[f"{_label(query)} (many)"] += 1
        return await executemany(self, query, *args, **kwargs)

    async def counted_commit(self: Any) -> None:
        if self.info.transaction_status != TransactionStatus.IDLE:
            counts["COMMIT"] += 1
        await commit(self)

    async def counted_rollback(self: Any) -> None:
        if self.info.transaction_status != TransactionStatus.IDLE:
            counts["ROLLBACK"] += 1
        await rollback(self)

    psycopg.AsyncCursor.execute = counted_execute  # type: ignore[method-assign]
    psycopg.AsyncCursor.executemany = counted_executemany  # type: ignore[method-assign]
    psycopg.AsyncConnection.commit = counted_commit  # type: ignore[method-assign]
    psycopg.AsyncConnection.rollback = counted_rollback  # type: ignore[method-assign]

    def report() -> None:
        while True:
            threading.Event().wait(interval)
            print(SQL_COUNT_PREFIX + json.dumps(dict(counts)), flush=True)

    threading.Thread(target=report, name="sql-count", daemon=True).start()


def _configure_logging() -> None:
    # As ``pagemill``'s CLI: INFO, with Procrastinate's per-job lines kept out.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("procrastinate").setLevel(logging.WARNING)


def serve_api(settings: Settings, processors: str) -> None:
    uvicorn.run(
        build_app(settings, standard_processors=processors == "standard"),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        loop="uvloop",
        http="httptools",
        timeout_graceful_shutdown=5,
    )


async def run_worker(settings: Settings, concurrency: int, processors: str) -> None:
    runtime_parts: dict[str, Any] = {}
    if processors == "bench":
        runtime_parts = {
            "compute": InlineComputePool(),
            "processors": ProcessorRegistry([SleepyConvert(), FastSegment()]),
        }
    try:
        async with open_runtime(settings, runs_steps=True, **runtime_parts) as runtime:
            work = asyncio.create_task(
                run_queue_worker(runtime, queues=None, concurrency=concurrency)
            )
            print(f"{READY_TEXT} (concurrency {concurrency})", flush=True)
            try:
                await asyncio.shield(work)
            except asyncio.CancelledError:
                # As `pagemill worker`: release running steps, then stop the queue worker.
                RELEASE.set()
                await runtime.services.runner.release_all(settings.shutdown_grace_seconds)
                work.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await work
                raise
    finally:
        RELEASE.set()  # a sleeping step's thread must not hold the process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", type=Path, required=True)
    common.add_argument(
        "--count-sql", action="store_true", help="print PostgreSQL round-trip counts (profiling)"
    )
    common.add_argument(
        "--processors",
        choices=("bench", "standard"),
        default="bench",
        help="the benchmark's instant test processors, or pagemill's real ones",
    )
    sub = parser.add_subparsers(dest="role", required=True)
    api = sub.add_parser("api", parents=[common], help="the API process (no in-process workers)")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, required=True)
    worker = sub.add_parser("worker", parents=[common], help="a queue worker process")
    worker.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    _configure_logging()
    if args.count_sql:
        count_sql()
    if args.role == "api":
        if args.host not in LOOPBACK:
            parser.error("the benchmark API listens on loopback only")
        settings = Settings(data_dir=args.data_dir, host=args.host, port=args.port, workers=0)
        serve_api(settings, args.processors)
        return
    settings = Settings(data_dir=args.data_dir, workers=0)
    if not settings.uses_procrastinate():
        parser.error("a worker node needs PAGEMILL_DATABASE_URL=postgresql://…")
    if args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    _run_until_signal(run_worker(settings, args.concurrency, args.processors))


if __name__ == "__main__":
    main()
