"""Scale-out benchmarks (PostgreSQL ledger, Procrastinate, Redis live store) next to embedded.

    .venv/bin/python bench/scaleout/run.py                    # about 16 minutes
    .venv/bin/python bench/scaleout/run.py --soak-minutes 1   # quick check, about 6 minutes

1. executions/s of a one-page, one-step pipeline with 16 submissions in flight: embedded
   (``bench/server.py``, SQLite) and scale-out with 1 and 2 worker processes behind one API;
2. step hand-off latency of ``convert → segment``, one execution at a time;
3. GET of an in-flight execution with 32 pollers while other work runs;
4. a soak: steady submissions and polling against the scale-out cluster, with every node's RSS.

Each scale-out run gets a fresh PostgreSQL database (dropped at the end), an empty Redis
database (this run's keys deleted at the end), a temporary shared blob directory, and its
processes (``bench/scaleout/node.py``) on loopback; all of it is removed after an error or
Ctrl-C too. The report is printed as Markdown and saved to ``bench/scaleout/results.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import time
import traceback
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil

from harness import running_server
from scaleout.cluster import (
    DEFAULT_POSTGRES_URL,
    DEFAULT_REDIS_URL,
    Cluster,
    RedisSpace,
    postgres_backend_pids,
    postgres_counters,
    queue_rows,
    redis_space,
    running_cluster,
    service_pids,
)
from scaleout.cpu import wait_quiet
from scaleout.measure import (
    INSTANT,
    ONE_PAGE,
    ONE_PAGE_SCAN,
    GetResult,
    Target,
    ThroughputResult,
    Workload,
    get_under_load,
    handoff,
    throughput,
)
from scaleout.report import EMBEDDED, ONE, PARTS, RESULTS, TWO, Report, render
from scaleout.soak import soak
from scaleout.watchers import PostgresWatcher, SqliteWatcher


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- targets --------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def embedded_target(workers: int, processors: str = "bench") -> AsyncIterator[Target]:
    async with running_server(workers=workers, processors=processors) as server:
        watcher = SqliteWatcher(server.data_dir / "pagemill.db")
        await watcher.open()
        try:
            yield Target(
                EMBEDDED,
                server,
                watcher,
                {"embedded server": lambda: {server.pid, *_children(server.pid)}},
                live="memory",
                live_shared=True,
            )
        finally:
            await watcher.close()


def _children(pid: int) -> set[int]:
    """The process pool's children of a node: their CPU is the node's too."""
    try:
        return {child.pid for child in psutil.Process(pid).children(recursive=True)}
    except psutil.Error:
        return set()


@contextlib.asynccontextmanager
async def cluster_target(
    args: argparse.Namespace,
    space: RedisSpace | None,
    processors: str = "bench",
    env: dict[str, str] | None = None,
) -> AsyncIterator[tuple[Cluster, Target]]:
    live_url = space.url if space is not None else "memory://"
    ids = space.execution_ids if space is not None else None
    async with running_cluster(
        args.postgres_url, live_url, ids, processors=processors, env=env
    ) as cluster:
        api = await cluster.start_api()
        watcher = PostgresWatcher(cluster.database_url)
        await watcher.open()

        def backends() -> set[int]:
            return postgres_backend_pids(cluster.database_url) - {watcher.backend_pid or -1}

        def shared_postgres() -> set[int]:
            return service_pids("postgres") - backends() - {watcher.backend_pid or -1}

        def workers() -> set[int]:
            return {pid for w in cluster.workers for pid in (w.pid, *_children(w.pid))}

        groups = {
            "API node": lambda: {api.pid, *_children(api.pid)},
            "worker nodes": workers,
            "PostgreSQL backends (bench DB)": backends,
            "PostgreSQL (shared processes, other DBs)": shared_postgres,
            "PostgreSQL (bench watcher)": lambda: {watcher.backend_pid or -1},
        }
        if space is not None:
            groups["redis-server"] = lambda: service_pids("redis-server")
        target = Target(
            ONE,
            api,
            watcher,
            groups,
            live="redis" if space is not None else "memory",
            live_shared=space is not None,
            execution_ids=space.execution_ids if space is not None else set(),
            db_counters=lambda: postgres_counters(cluster.database_url),
        )
        try:
            yield cluster, target
        finally:
            await watcher.close()
            crashed = cluster.crashed()
            if crashed:
                say(f"node(s) exited unexpectedly: {[n.name for n in crashed]}")
                for node in crashed:
                    say(node.log_tail())


# -- running --------------------------------------------------------------------------------


REAL_WORKLOADS = (ONE_PAGE, ONE_PAGE_SCAN)


async def _measure(
    target: Target, workload: Workload, args: argparse.Namespace
) -> ThroughputResult:
    await quiet(target, args)
    if workload.slow:
        in_flight, duration = args.scan_in_flight, args.scan_duration
    else:
        in_flight, duration = args.in_flight, args.duration
    return await throughput(
        target, workload, in_flight=in_flight, warmup=args.warmup, duration=duration
    )


async def run_embedded(args: argparse.Namespace, report: Report, parts: list[str]) -> None:
    if "throughput" in parts:
        say(f"· {EMBEDDED}, real processors: bench/server.py --processors standard")
        async with embedded_target(args.embedded_workers, "standard") as target:
            for workload in REAL_WORKLOADS:
                for round_ in range(1, args.rounds + 1):
                    say(f"  {workload.name} executions/s, round {round_}")
                    result = await _measure(target, workload, args)
                    report.rates[workload.name].append((round_, result))
    if not {"overhead", "handoff", "get"} & set(parts):
        return
    say(f"· {EMBEDDED}, test processors: bench/server.py with {args.concurrency} workers")
    async with embedded_target(args.concurrency) as target:
        if "overhead" in parts:
            for round_ in range(1, args.overhead_rounds + 1):
                say(f"  instant executions/s, round {round_}")
                report.rates[INSTANT.name].append((round_, await _measure(target, INSTANT, args)))
        if "handoff" in parts:
            say("  hand-off")
            await quiet(target, args)
            report.handoff[EMBEDDED] = await handoff(
                target, executions=args.handoff_executions, warmup=10
            )
        if "get" in parts:
            say(f"  GET with {args.pollers} pollers")
            report.get.append(await _get(target, args))


async def quiet(target: Target, args: argparse.Namespace) -> None:
    """Before a measurement: wait a while for other users' processes to calm down."""
    if args.quiet_wait > 0:
        await wait_quiet(
            target.cpu_groups, threshold=args.quiet_cores, timeout=args.quiet_wait, progress=say
        )


async def _get(target: Target, args: argparse.Namespace) -> GetResult:
    await quiet(target, args)
    return await get_under_load(
        target,
        connections=args.pollers,
        poll_interval_ms=args.poll_interval_ms,
        background_rate=args.background_rate,
        warmup=args.warmup,
        duration=args.duration,
    )


async def _one_then_two(
    cluster: Cluster,
    target: Target,
    workload: Workload,
    args: argparse.Namespace,
    *,
    rounds: int,
    concurrency: int,
) -> list[tuple[int, ThroughputResult]]:
    """Rounds of 1 worker, then 2 workers (interleaved); the cluster has one worker already."""
    results = []
    for round_ in range(1, rounds + 1):
        for label in (ONE, TWO):
            if label == TWO:
                second = await cluster.start_worker(concurrency)
            target.label = label
            say(f"  {workload.name} executions/s, {label}, round {round_}")
            results.append((round_, await _measure(target, workload, args)))
        if round_ < rounds:
            await cluster.stop_node(second)
    return results


async def run_scaleout(
    args: argparse.Namespace, report: Report, parts: list[str], space: RedisSpace | None
) -> None:
    live = space.url if space else "memory"
    if "throughput" in parts:
        say(
            f"· scale-out, real processors: fresh PostgreSQL database, live store {live}; "
            f"workers --concurrency {args.worker_concurrency}, process pool {args.worker_pool}"
        )
        pool = {"PAGEMILL_PROCESS_POOL_SIZE": str(args.worker_pool)}
        async with cluster_target(args, space, "standard", pool) as (cluster, target):
            await cluster.start_worker(args.worker_concurrency)
            for workload in REAL_WORKLOADS:
                report.rates[workload.name] += await _one_then_two(
                    cluster,
                    target,
                    workload,
                    args,
                    rounds=args.rounds,
                    concurrency=args.worker_concurrency,
                )
                if len(cluster.workers) > 1:  # the next workload starts with one worker again
                    await cluster.stop_node(cluster.workers[-1])
    if not {"overhead", "handoff", "get"} & set(parts):
        return
    say(f"· scale-out, test processors: fresh PostgreSQL database, live store {live}")
    async with cluster_target(args, space) as (cluster, target):
        await cluster.start_worker(args.concurrency)
        if "overhead" in parts:
            report.rates[INSTANT.name] += await _one_then_two(
                cluster,
                target,
                INSTANT,
                args,
                rounds=args.overhead_rounds,
                concurrency=args.concurrency,
            )
        if len(cluster.workers) < 2:
            await cluster.start_worker(args.concurrency)
        target.label = TWO
        if "handoff" in parts:
            say("  hand-off with 2 workers")
            await quiet(target, args)
            report.handoff[TWO] = await handoff(
                target, executions=args.handoff_executions, warmup=10
            )
        if "get" in parts:
            say(f"  GET with {args.pollers} pollers, 2 workers")
            report.get.append(await _get(target, args))


async def run_soak(args: argparse.Namespace, report: Report, space: RedisSpace | None) -> None:
    say(
        f"· soak: {args.soak_minutes:g} min at {args.soak_rate:g} executions/s on a fresh cluster "
        "(API + 2 workers)"
    )
    async with cluster_target(args, space) as (cluster, target):
        target.label = TWO
        await cluster.start_worker(args.concurrency)
        await cluster.start_worker(args.concurrency)
        report.soak_nodes = {n.name: n.role for n in cluster.nodes}
        await quiet(target, args)
        report.soak = await soak(
            target,
            cluster.pagemill_pids,
            minutes=args.soak_minutes,
            rate=args.soak_rate,
            poll_interval=args.soak_poll_seconds,
            rss_interval=10.0,
            drain_timeout=args.drain_seconds,
            progress=say,
        )
        report.soak_queue = await asyncio.to_thread(queue_rows, cluster.database_url)


async def _main(args: argparse.Namespace) -> Report:
    report = Report(args)
    parts = args.only or list(PARTS)
    if args.soak_minutes <= 0 and "soak" in parts:
        parts.remove("soak")
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        space = None
        if args.live == "redis":
            space = stack.enter_context(redis_space(args.redis_url))
            report.redis_db = space.db
        await _guarded(report, "embedded", run_embedded(args, report, parts))
        await _guarded(report, "scale-out", run_scaleout(args, report, parts, space))
        if "soak" in parts:
            await _guarded(report, "soak", run_soak(args, report, space))
        if space is not None:
            space.cleanup()  # again on exit, which is harmless: to report what is left
            report.redis_left = _redis_keys_left(space)
    report.notes.append(f"Run time {time.monotonic() - started:.0f} s.")
    return report


async def _guarded(report: Report, name: str, part: Coroutine[Any, Any, None]) -> None:
    """Run one part; if it fails, say so in the report and go on with the next part."""
    try:
        await part
    except Exception as error:
        say(f"{name} failed:\n{traceback.format_exc()}")
        report.notes.append(f"**The {name} part failed:** `{type(error).__name__}: {error}`.")


def _redis_keys_left(space: RedisSpace) -> int:
    import redis

    client = redis.Redis.from_url(space.url, socket_timeout=5)
    try:
        return int(client.dbsize())
    finally:
        client.close()


# -- command line ---------------------------------------------------------------------------


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # unwind: every context stops its processes and drops its data


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = p.add_argument
    add("--soak-minutes", type=float, default=10.0, help="soak length (default 10; 0 skips it)")
    add("--soak-rate", type=float, default=5.0, help="soak submissions per second (default 5)")
    add("--soak-poll-seconds", type=float, default=0.5, help="soak poll interval (default 0.5)")
    add("--drain-seconds", type=float, default=60.0, help="soak drain limit (default 60)")
    add("--only", action="append", choices=PARTS, help="run only this part (repeatable)")
    add("--duration", type=float, default=15.0, help="seconds per load measurement (default 15)")
    add("--warmup", type=float, default=3.0, help="warm-up seconds before each (default 3)")
    add("--rounds", type=int, default=3, help="executions/s rounds per mode (default 3)")
    add("--in-flight", type=int, default=16, help="executions in flight (default 16)")
    add(
        "--concurrency",
        type=int,
        default=4,
        help="steps at once per worker with the test processors (default 4)",
    )
    add(
        "--worker-concurrency",
        type=int,
        default=1,
        help="one-page throughput: steps at once per worker process (default 1)",
    )
    add(
        "--worker-pool",
        type=int,
        default=1,
        help="one-page throughput: process-pool children per worker process (default 1)",
    )
    add(
        "--embedded-workers",
        type=int,
        default=2,
        help="one-page throughput: embedded step workers (default 2, as `pagemill serve`)",
    )
    add("--overhead-rounds", type=int, default=2, help="instant rounds per mode (default 2)")
    add("--scan-in-flight", type=int, default=6, help="scanned page: in flight (default 6)")
    add(
        "--scan-duration",
        type=float,
        default=30.0,
        help="scanned page: seconds per measurement (default 30)",
    )
    add("--handoff-executions", type=int, default=200, help="hand-off executions (default 200)")
    add("--pollers", type=int, default=32, help="concurrent GET pollers (default 32)")
    add("--poll-interval-ms", type=int, default=100, help="pause between polls (default 100)")
    add("--background-rate", type=float, default=10.0, help="submissions/s during GET (10)")
    add("--live", choices=("redis", "memory"), default="redis", help="scale-out live store")
    add(
        "--postgres-url",
        default=os.environ.get("PAGEMILL_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL,
        help="a database on a loopback server allowed to create DBs",
    )
    add("--redis-url", default=DEFAULT_REDIS_URL, help="a loopback Redis server")
    add("--quiet-cores", type=float, default=0.3, help="see --quiet-wait (default 0.3)")
    add(
        "--quiet-wait",
        type=float,
        default=60.0,
        help="before each measurement, wait up to this many seconds (default 60; 0: never) "
        "until other processes use less than --quiet-cores",
    )
    add("--no-save", action="store_true", help="do not write bench/scaleout/results.md")
    add("--strict", action="store_true", help="exit with status 1 when a target is missed")
    return p


def main() -> int:
    args = _parser().parse_args()
    signal.signal(signal.SIGTERM, _terminate)
    load_before = os.getloadavg()[0]
    try:
        report = asyncio.run(_main(args))
    except KeyboardInterrupt:
        say("interrupted; nodes stopped, database dropped, Redis keys deleted")
        return 130
    text = render(report, load_before)
    print(text)
    if not args.no_save:
        RESULTS.write_text(text + "\n")
    return 1 if args.strict and not all(ok for *_, ok in report.checks) else 0


if __name__ == "__main__":
    sys.exit(main())
