"""The scale-out benchmark's report: what was measured, as Markdown, with the target checks."""

from __future__ import annotations

import argparse
import collections
import os
import platform
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from harness import percentile
from loadgen import LoadResult, tool_name
from run_all import _cpu_model
from scaleout.cpu import CpuUsage
from scaleout.measure import GetResult, HandoffResult, ThroughputResult
from scaleout.soak import SoakResult

RESULTS = Path(__file__).resolve().parent / "results.md"
PARTS = ("throughput", "overhead", "handoff", "get", "soak")
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


@dataclass
class Report:
    args: argparse.Namespace
    checks: list[tuple[str, str, str, bool]] = field(default_factory=list)
    # Executions/s rounds by workload name ("one-page", "one-page scan", "instant").
    rates: collections.defaultdict[str, list[tuple[int, ThroughputResult]]] = field(
        default_factory=lambda: collections.defaultdict(list)
    )
    handoff: dict[str, tuple[HandoffResult, CpuUsage]] = field(default_factory=dict)
    get: list[GetResult] = field(default_factory=list)
    soak: SoakResult | None = None
    soak_nodes: dict[str, str] = field(default_factory=dict)  # node name → role
    soak_queue: dict[str, int] = field(default_factory=dict)  # Procrastinate rows left
    redis_db: int | None = None
    redis_left: int | None = None
    notes: list[str] = field(default_factory=list)


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


def _real_setup(args: argparse.Namespace) -> str:
    return (
        "Unique bytes per execution, so the executor cache never answers. A scale-out worker "
        "process is sized for one core: `pagemill worker --concurrency "
        f"{args.worker_concurrency}` with a process pool of {args.worker_pool}. Embedded: "
        f"`pagemill serve` as shipped ({args.embedded_workers} in-process step workers, a "
        "process pool of 2). The API and worker columns include their process-pool children."
    )


def throughput_section(report: Report) -> list[str]:
    args = report.args
    return _rates_section(
        report,
        report.rates["one-page"],
        "One-page pipeline, text PDF: pagemill's real `convert` (in the process pool) of a "
        "one-page report PDF with a text layer (title, headings, three paragraphs, a ruled 5x5 "
        f"table; about 27 ms of conversion CPU). {args.in_flight} executions in flight, "
        f"{args.duration:g} s per measurement after {args.warmup:g} s warm-up. "
        + _real_setup(args),
        check="Scale-out executions/s, one-page text PDF, 2 workers vs 1 (medians; best)",
    )


def scan_section(report: Report) -> list[str]:
    args = report.args
    return _rates_section(
        report,
        report.rates["one-page scan"],
        "One-page pipeline, scanned page: the same page as a 200 dpi greyscale image without "
        "a text layer, so `convert` runs OCR (Tesseract, one thread; about 0.5 s of CPU). "
        f"{args.scan_in_flight} executions in flight, {args.scan_duration:g} s per measurement "
        f"after {args.warmup:g} s warm-up. " + _real_setup(args),
        check="Scale-out executions/s, one-page scan (OCR), 2 workers vs 1 (medians; best)",
    )


def overhead_section(report: Report) -> list[str]:
    args = report.args
    return _rates_section(
        report,
        report.rates["instant"],
        f"pagemill's own cost per execution: a one-step pipeline whose `convert` is the "
        f"benchmark's instant test processor (`cpu_heavy=False`, returns at once), "
        f"{args.in_flight} executions in flight, {args.concurrency} concurrent steps per worker "
        f"process (embedded: {args.concurrency} in-process workers). No target: with no "
        "document work the machine is full of PostgreSQL, API and worker bookkeeping, which is "
        "what these rows measure.",
        check=None,
    )


def _rates_section(
    report: Report,
    results: list[tuple[int, ThroughputResult]],
    description: str,
    *,
    check: str | None,
) -> list[str]:
    if not results:
        return []
    by_label: dict[str, list[ThroughputResult]] = {}
    for _, result in results:
        by_label.setdefault(result.label, []).append(result)
    names = [n for n, _ in CPU_COLUMNS]
    used = [n for n in names if any(r.cpu and n in r.cpu.groups for _, r in results)]
    heads = [short for n, short in CPU_COLUMNS if n in used]
    lines = [
        description + " CPU in cores (CPU seconds per second) during the measurement; *other* "
        "is the rest of the machine (other users' processes).",
        "",
        "| Mode | Round | Executions/s | Latency p50 / p95 (ms) | Errors | "
        + " | ".join(heads)
        + " | other | machine busy |",
        "|---|---:|---:|---:|---:|" + "---:|" * (len(heads) + 2),
    ]
    for round_, r in results:
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
        *(_per_execution_row(round_, r) for round_, r in results),
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
        if check is not None:
            report.checks.append((check, f"{ratio:.2f}x; {best:.2f}x", "≥ 1.7x", ratio >= 1.7))
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


def _load_row(label: str, live: str, kind: str, r: LoadResult, extra: str) -> str:
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
        f"(a `convert` sleeping {120} s), with {args.pollers} keep-alive connections "
        f"({tool_name()}), "
        f"while one-step executions are submitted at {args.background_rate:g}/s. *Pollers*: "
        f"each connection waits a random {args.poll_interval_ms // 2}-"
        f"{args.poll_interval_ms * 3 // 2} ms between polls (mean "
        f"{args.poll_interval_ms} ms), like independent SDK clients polling; *closed loop*: "
        "back to back, which measures saturation "
        f"(p99 ≥ {args.pollers} ÷ throughput). {args.duration:g} s each.",
        "",
        "| Mode | Live store | Load | Requests/s | p50 (ms) | p90 (ms) | p99 (ms) | Errors "
        "| Notes |",
        "|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for g in report.get:
        api = g.paced_cpu.cores("API node") or g.paced_cpu.cores("embedded server")
        other = g.paced_cpu.other / g.paced_cpu.wall
        per_request = 1e6 * api * g.paced_cpu.wall / max(1, g.paced.requests)
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
    if scale is not None:
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
        ("### 1. Executions per second, one-page pipeline (text PDF)", throughput_section),
        ("### 1b. Executions per second, one-page pipeline (scanned page)", scan_section),
        ("### 1c. Executions per second, engine only (instant processor)", overhead_section),
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
