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
import platform
import signal
import statistics
import sys
import time
import traceback
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import percentile, running_server
from loadgen import LoadResult, tool_name
from run_all import _cpu_model
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
from scaleout.measure import (
    CpuUsage,
    GetResult,
    HandoffResult,
    PostgresWatcher,
    SoakResult,
    SqliteWatcher,
    Target,
    ThroughputResult,
    get_under_load,
    handoff,
    soak,
    throughput,
    wait_quiet,
)

RESULTS = Path(__file__).resolve().parent / "results.md"
PARTS = ("throughput", "handoff", "get", "soak")
EMBEDDED = "embedded (1 process, SQLite)"
ONE = "scale-out, 1 worker"
TWO = "scale-out, 2 workers"
CPU_COLUMNS = (
    ("API node", "API"),
    ("worker nodes", "workers"),
    ("embedded server", "server"),
    ("PostgreSQL backends (bench DB)", "PG backends"),
    ("PostgreSQL (shared processes, other DBs)", "PG other"),
    ("PostgreSQL (bench watcher)", "PG watcher"),
    ("redis-server", "Redis"),
    ("bench client (+wrk)", "bench client"),
)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Report:
    args: argparse.Namespace
    checks: list[tuple[str, str, str, bool]] = field(default_factory=list)
    throughput: list[tuple[int, ThroughputResult]] = field(default_factory=list)
    handoff: dict[str, tuple[HandoffResult, CpuUsage]] = field(default_factory=dict)
    get: list[GetResult] = field(default_factory=list)
    soak: SoakResult | None = None
    soak_nodes: dict[str, str] = field(default_factory=dict)  # node name → role
    soak_queue: dict[str, int] = field(default_factory=dict)  # Procrastinate rows left
    redis_db: int | None = None
    redis_left: int | None = None
    notes: list[str] = field(default_factory=list)


# -- targets --------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def embedded_target(concurrency: int) -> AsyncIterator[Target]:
    async with running_server(workers=concurrency) as server:
        watcher = SqliteWatcher(server.data_dir / "pagemill.db")
        await watcher.open()
        try:
            yield Target(
                EMBEDDED,
                server,
                watcher,
                {"embedded server": lambda: {server.pid}},
                live="memory",
                live_shared=True,
            )
        finally:
            await watcher.close()


@contextlib.asynccontextmanager
async def cluster_target(
    args: argparse.Namespace, space: RedisSpace | None
) -> AsyncIterator[tuple[Cluster, Target]]:
    live_url = space.url if space is not None else "memory://"
    ids = space.execution_ids if space is not None else None
    async with running_cluster(args.postgres_url, live_url, ids) as cluster:
        api = await cluster.start_api()
        watcher = PostgresWatcher(cluster.database_url)
        await watcher.open()

        def backends() -> set[int]:
            return postgres_backend_pids(cluster.database_url) - {watcher.backend_pid or -1}

        def shared_postgres() -> set[int]:
            return service_pids("postgres") - backends() - {watcher.backend_pid or -1}

        groups = {
            "API node": lambda: {api.pid},
            "worker nodes": lambda: {w.pid for w in cluster.workers},
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


async def run_embedded(args: argparse.Namespace, report: Report, parts: list[str]) -> None:
    if not {"throughput", "handoff", "get"} & set(parts):
        return
    say(f"· {EMBEDDED}: starting bench/server.py with {args.concurrency} workers")
    async with embedded_target(args.concurrency) as target:
        if "throughput" in parts:
            for round_ in range(1, args.rounds + 1):
                say(f"  executions/s, round {round_}")
                await quiet(target, args)
                result = await throughput(
                    target, in_flight=args.in_flight, warmup=args.warmup, duration=args.duration
                )
                report.throughput.append((round_, result))
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


async def run_scaleout(
    args: argparse.Namespace, report: Report, parts: list[str], space: RedisSpace | None
) -> None:
    if not {"throughput", "handoff", "get"} & set(parts):
        return
    say(f"· scale-out: fresh PostgreSQL database, live store {space.url if space else 'memory'}")
    async with cluster_target(args, space) as (cluster, target):
        await cluster.start_worker(args.concurrency)
        if "throughput" in parts:
            for round_ in range(1, args.rounds + 1):
                target.label = ONE
                say(f"  executions/s with 1 worker, round {round_}")
                await quiet(target, args)
                report.throughput.append(
                    (
                        round_,
                        await throughput(
                            target,
                            in_flight=args.in_flight,
                            warmup=args.warmup,
                            duration=args.duration,
                        ),
                    )
                )
                second = await cluster.start_worker(args.concurrency)
                target.label = TWO
                say(f"  executions/s with 2 workers, round {round_}")
                await quiet(target, args)
                report.throughput.append(
                    (
                        round_,
                        await throughput(
                            target,
                            in_flight=args.in_flight,
                            warmup=args.warmup,
                            duration=args.duration,
                        ),
                    )
                )
                if round_ < args.rounds:
                    await cluster.stop_node(second)
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


# -- the report -----------------------------------------------------------------------------


def _fmt(value: float, digits: int = 2) -> str:
    return "-" if value != value else f"{value:,.{digits}f}"  # NaN → dash


def _cpu_cells(cpu: CpuUsage | None, names: list[str]) -> list[str]:
    if cpu is None:
        return ["-"] * (len(names) + 2)
    cells = [_fmt(cpu.cores(n)) if n in cpu.groups else "-" for n in names]
    cells.append(_fmt(cpu.other / cpu.wall))
    cells.append(_fmt(cpu.machine_busy / cpu.wall))
    return cells


def _median_rate(results: list[ThroughputResult]) -> float:
    return statistics.median(r.rate for r in results) if results else float("nan")


def _best_rate(results: list[ThroughputResult]) -> float:
    return max((r.rate for r in results), default=float("nan"))


OWN_GROUPS = ("API node", "worker nodes", "embedded server", "PostgreSQL backends (bench DB)")


def _per_execution_row(round_: int, r: ThroughputResult) -> str:
    cpu = r.cpu
    if cpu is None or not r.completed:
        return f"| {r.label} | {round_} | - | - | - | - | - | - |"

    def ms(name: str) -> str:
        return f"{1000 * cpu.groups[name] / r.completed:.1f}" if name in cpu.groups else "-"

    own = sum(cpu.groups.get(n, 0.0) for n in OWN_GROUPS) + cpu.groups.get("redis-server", 0.0)
    commits = r.db.get("commits")
    rollbacks = r.db.get("rollbacks")
    db = (
        f"{commits / r.completed:.1f} / {rollbacks / r.completed:.1f}"
        if commits is not None and rollbacks is not None
        else "-"
    )
    api = ms("API node") if "API node" in cpu.groups else ms("embedded server")
    return (
        f"| {r.label} | {round_} | {api} | {ms('worker nodes')} | "
        f"{ms('PostgreSQL backends (bench DB)')} | {ms('redis-server')} | "
        f"**{1000 * own / r.completed:.1f}** | {db} |"
    )


def throughput_section(report: Report) -> list[str]:
    args = report.args
    if not report.throughput:
        return []
    by_label: dict[str, list[ThroughputResult]] = {}
    for _, result in report.throughput:
        by_label.setdefault(result.label, []).append(result)
    names = [n for n, _ in CPU_COLUMNS]
    used = [n for n in names if any(r.cpu and n in r.cpu.groups for _, r in report.throughput)]
    heads = [short for n, short in CPU_COLUMNS if n in used]
    lines = [
        f"One-step pipeline (`convert`, instant, `cpu_heavy=False`), {args.in_flight} executions "
        f"in flight, {args.duration:g} s per measurement after {args.warmup:g} s warm-up; "
        f"{args.concurrency} concurrent steps per worker process (embedded: "
        f"{args.concurrency} in-process workers). CPU in cores (CPU seconds per second) during "
        "the measurement; *other* is the rest of the machine (other users' processes).",
        "",
        "| Mode | Round | Executions/s | Latency p50 / p95 (ms) | Errors | "
        + " | ".join(heads)
        + " | other | machine busy |",
        "|---|---:|---:|---:|---:|" + "---:|" * (len(heads) + 2),
    ]
    for round_, r in report.throughput:
        lines.append(
            f"| {r.label} | {round_} | {r.rate:,.1f} | {_fmt(percentile(r.latency_ms, 50), 1)} / "
            f"{_fmt(percentile(r.latency_ms, 95), 1)} | {r.errors} | "
            + " | ".join(_cpu_cells(r.cpu, used))
            + " |"
        )
    lines += [
        "",
        "CPU milliseconds per completed execution, and PostgreSQL transactions per execution "
        "(`pg_stat_database` of the bench database: commits / rollbacks):",
        "",
        "| Mode | Round | API (or embedded server) | Workers | PostgreSQL backends | Redis "
        "| Total | PG commits / rollbacks |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *(_per_execution_row(round_, r) for round_, r in report.throughput),
        "",
    ]
    summary = []
    for label in (EMBEDDED, ONE, TWO):
        if label in by_label:
            summary.append(
                f"{label} **{_median_rate(by_label[label]):,.1f}** "
                f"(best {_best_rate(by_label[label]):,.1f})"
            )
    if summary:
        lines.append("Executions/s, median of rounds (best): " + "; ".join(summary) + ".")
    if ONE in by_label and TWO in by_label:
        ratio = _median_rate(by_label[TWO]) / _median_rate(by_label[ONE])
        best = _best_rate(by_label[TWO]) / _best_rate(by_label[ONE])
        per_round = [
            b.rate / a.rate for a, b in zip(by_label[ONE], by_label[TWO], strict=False) if a.rate
        ]
        lines.append(
            f"2 workers / 1 worker: **{ratio:.2f}x** on medians, {best:.2f}x on best rounds "
            "(other load only slows a round down), per round "
            + ", ".join(f"{x:.2f}x" for x in per_round)
            + "."
        )
        ceilings = []
        for r in by_label[ONE]:
            if r.cpu is None or not r.completed:
                continue
            own = sum(r.cpu.groups.get(n, 0.0) for n in (*OWN_GROUPS, "redis-server"))
            spare = (os.cpu_count() or 1) - r.cpu.cores("bench client (+wrk)")
            ceilings.append(spare / (own / r.completed))
        if ceilings:
            ceiling = statistics.median(ceilings)
            lines.append(
                f"CPU ceiling of this machine for scale-out: with nothing else running, "
                f"{os.cpu_count()} cores minus the load generator, divided by the pagemill + "
                f"PostgreSQL + Redis CPU of one execution (1-worker rounds), allow at most "
                f"**{ceiling:,.0f} executions/s = {ceiling / _median_rate(by_label[ONE]):.2f}x** "
                "the 1-worker median, whatever the number of worker processes."
            )
        report.checks.append(
            (
                "Scale-out executions/s, 2 workers vs 1 (medians; best rounds)",
                f"{ratio:.2f}x; {best:.2f}x",
                "≥ 1.7x",
                ratio >= 1.7,
            )
        )
    return lines


def handoff_section(report: Report) -> list[str]:
    if not report.handoff:
        return []
    lines = [
        "`convert → segment`, both instant; one execution at a time after 10 warm-up runs. "
        "Intervals from the execution's own timestamps (ledger).",
        "",
        "| Mode | n | Hand-off p50 / p95 / p99 / max (ms) | Submit → step 0 running p50 / p95 / "
        "p99 (ms) | Whole execution p50 / p95 / p99 (ms) | Not completed | Other load (cores) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, (r, cpu) in report.handoff.items():
        lines.append(
            f"| {label} | {len(r.handoff_ms)} | {_triple(r.handoff_ms, True)} | "
            f"{_triple(r.submit_ms)} | {_triple(r.total_ms)} | {r.failed} | "
            f"{cpu.other / cpu.wall:.2f} |"
        )
    if TWO in report.handoff:
        p50 = percentile(report.handoff[TWO][0].handoff_ms, 50)
        report.checks.append(
            ("Scale-out step hand-off p50", f"{_fmt(p50)} ms", "< 50 ms", p50 < 50)
        )
    return lines


def _triple(values: list[float], with_max: bool = False) -> str:
    cells = [_fmt(percentile(values, p), 1) for p in (50, 95, 99)]
    if with_max:
        cells.append(_fmt(max(values, default=float("nan")), 1))
    return " / ".join(cells)


def _load_row(label: str, live: str, kind: str, r: LoadResult | None, extra: str) -> str:
    if r is None:
        return f"| {label} | {live} | {kind} | - | - | - | - | - | {extra} |"
    return (
        f"| {label} | {live} | {kind} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p90_ms:.2f} | "
        f"**{r.p99_ms:.2f}** | {r.errors} | {extra} |"
    )


def get_section(report: Report) -> list[str]:
    args = report.args
    if not report.get:
        return []
    lines = [
        f"`GET /api/v1/pipelines/executions/{{id}}` of an execution whose step is running "
        f"(a `convert` sleeping {120} s), with {args.pollers} keep-alive connections (`wrk`), "
        f"while one-step executions are submitted at {args.background_rate:g}/s. *Pollers*: "
        f"each connection waits a random {args.poll_interval_ms // 2}-"
        f"{args.poll_interval_ms * 3 // 2} ms between polls (wrk `delay()`; mean "
        f"{args.poll_interval_ms} ms), like independent SDK clients polling; *closed loop*: "
        "back to back, which measures saturation "
        f"(p99 ≥ {args.pollers} ÷ throughput). {args.duration:g} s each.",
        "",
        "| Mode | Live store | Load | Requests/s | p50 (ms) | p90 (ms) | p99 (ms) | Errors "
        "| Notes |",
        "|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for g in report.get:
        cpu = ""
        if g.paced_cpu is not None:
            api = g.paced_cpu.cores("API node") or g.paced_cpu.cores("embedded server")
            other = g.paced_cpu.other / g.paced_cpu.wall
            per_request = 1e6 * api * g.paced_cpu.wall / max(1, g.paced.requests if g.paced else 1)
            cpu = (
                f"API CPU {api:.2f} cores (~{per_request:,.0f} µs per GET, background work "
                f"included), other load {other:.2f} cores; "
            )
        extra = (
            f"{cpu}sources {g.sources}; background {g.background.completed} done, "
            f"{g.background.errors} errors"
        )
        kind = f"{args.pollers} pollers / {g.poll_interval_ms} ms"
        lines.append(_load_row(g.label, g.live, kind, g.paced, extra))
        lines.append(_load_row(g.label, g.live, f"{args.pollers} closed loop", g.closed, ""))
    scale = next((g for g in report.get if g.label == TWO), None)
    if scale is not None and scale.paced is not None:
        ok = scale.paced.p99_ms < 20 and scale.paced.errors == 0
        report.checks.append(
            (
                f"Scale-out GET p99, {args.pollers} pollers every {args.poll_interval_ms} ms "
                f"({scale.live})",
                f"{scale.paced.p99_ms:.2f} ms",
                "< 20 ms",
                ok,
            )
        )
        report.checks.append(
            (
                f"Scale-out GET p99, {args.pollers} clients closed loop (for reference)",
                f"{scale.closed.p99_ms:.2f} ms at {scale.closed.rps:,.0f} req/s",
                "-",
                True,
            )
        )
    return lines


def soak_section(report: Report) -> list[str]:
    s = report.soak
    if s is None:
        return []
    lines = [
        f"{s.minutes:g} min on a fresh cluster (API + 2 workers, live store {report.args.live}): "
        f"`convert → segment` submitted at {s.rate:g}/s, each execution polled every "
        f"{s.poll_interval:g} s until it ends, then a drain of at most "
        f"{report.args.drain_seconds:g} s (took {s.drain_seconds:.1f} s). RSS of every pagemill "
        f"process sampled every 10 s; warm-up = first {s.warmup_seconds:.0f} s.",
        "",
        f"- Submitted: {s.submitted} ({s.post_requests} POST, {s.get_requests} GET requests)",
        f"- Errors (non-2xx or transport): **{s.errors}** (POST {s.post_errors or 0}, "
        f"GET {s.get_errors or 0})",
        f"- Final statuses: {s.final_status}; lost (not `completed`): **{s.lost}**",
        f"- Procrastinate job rows left after the drain (finished jobs are deleted): "
        f"{report.soak_queue or 0}",
        f"- Hand-off under load (n={len(s.handoff.handoff_ms)}): p50 / p95 / p99 / max "
        f"{_triple(s.handoff.handoff_ms, True)} ms; whole execution {_triple(s.handoff.total_ms)}"
        " ms",
        f"- GET latency seen by the client (httpx): p50 / p99 "
        f"{_fmt(percentile(s.get_latency_ms, 50))} / {_fmt(percentile(s.get_latency_ms, 99))} ms",
    ]
    if s.cpu is not None:
        cells = ", ".join(
            f"{name} {s.cpu.cores(name):.2f}" for name in s.cpu.groups if s.cpu.groups[name]
        )
        lines.append(f"- Average CPU (cores): {cells}; other {s.cpu.other / s.cpu.wall:.2f}")
    lines += [
        "",
        "| Process | Start (MiB) | After warm-up (MiB) | End (MiB) | Max (MiB) | Growth after "
        "warm-up | Slope after warm-up (MiB/min) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    flat = True
    for name, series in s.rss.items():
        mib = [rss / 2**20 for _, rss in series.samples]
        after = series.after(s.warmup_seconds)
        growth = series.growth(s.warmup_seconds)
        flat = flat and growth < 0.10
        lines.append(
            f"| {name} | {mib[0]:.1f} | {after[0][1] / 2**20:.1f} | {mib[-1]:.1f} | "
            f"{max(mib):.1f} | {growth:+.1%} | {series.slope_mib_per_min(s.warmup_seconds):+.2f} |"
        )
    report.checks += [
        ("Soak: errors", str(s.errors), "0", s.errors == 0),
        (
            "Soak: lost executions",
            f"{s.lost} of {s.submitted}",
            "0",
            s.lost == 0 and s.submitted > 0,
        ),
        (
            "Soak: RSS growth after warm-up, every process",
            ", ".join(f"{n} {r.growth(s.warmup_seconds):+.1%}" for n, r in s.rss.items()),
            "< 10 %",
            flat,
        ),
    ]
    return lines


def render(report: Report, load_before: float) -> str:
    args = report.args
    sections: list[str] = []
    for title, builder in (
        ("### 1. Executions per second", throughput_section),
        ("### 2. Step hand-off latency", handoff_section),
        (f"### 3. GET execution with {args.pollers} pollers while work runs", get_section),
        (f"### 4. Soak ({args.soak_minutes:g} min)", soak_section),
    ):
        body = builder(report)
        if body:
            sections += [title, "", *body, ""]
    live = f"Redis db {report.redis_db}" if report.redis_db is not None else "memory://"
    left = (
        f"; Redis keys left after cleanup: {report.redis_left}"
        if report.redis_left is not None
        else ""
    )
    header = [
        "## pagemill scale-out benchmark results",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {os.cpu_count()} cores ({_cpu_model()}), {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}; PostgreSQL, Redis, every "
        "pagemill process and the load generator share it",
        f"- Scale-out: PostgreSQL ledger + Procrastinate, live store {live}{left}; load "
        f"generator {tool_name()} and httpx",
        f"- 1-minute load average before the run: {load_before:.2f}. " + " ".join(report.notes),
        "",
        "| Target | Measured | Goal | Pass |",
        "|---|---:|---:|:---:|",
        *(
            f"| {name} | {value} | {goal} | {'✅' if ok else '❌'} |"
            for name, value, goal, ok in report.checks
        ),
        "",
    ]
    return "\n".join(header + sections)


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
    add("--concurrency", type=int, default=4, help="steps at once per worker (default 4)")
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
