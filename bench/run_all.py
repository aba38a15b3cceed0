"""Run pagemill's benchmarks and print a Markdown report (also saved to bench/results/latest.md).

    .venv/bin/python bench/run_all.py            # all three, about a minute and a half
    .venv/bin/python bench/run_all.py --only upload --only handoff

Each benchmark starts its own server process (``bench/server.py``) on a free loopback port
with a temporary data directory, and stops it afterwards, on errors and on Ctrl-C too.
See docs/benchmarks.md for what is measured and the targets.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_get_inflight
import bench_handoff
import bench_upload
from loadgen import tool_name

RESULTS = Path(__file__).resolve().parent / "results" / "latest.md"
BENCHMARKS = ("inflight", "handoff", "upload")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


async def _main(args: argparse.Namespace) -> tuple[str, bool]:
    selected = args.only or list(BENCHMARKS)
    sections: list[str] = []
    checks: list[tuple[str, str, str, bool]] = []
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    if "inflight" in selected:
        print("· GET execution while in flight …", file=sys.stderr, flush=True)
        result = await bench_get_inflight.run(duration=args.duration, warmup=args.warmup)
        lines, found = bench_get_inflight.report(result)
        sections += ["### 1. GET execution while in flight", "", *lines, ""]
        checks += found
    if "handoff" in selected:
        print("· step hand-off latency …", file=sys.stderr, flush=True)
        result_h = await bench_handoff.run(
            executions=args.executions, same_document=args.handoff_same_document
        )
        lines, found = bench_handoff.report(result_h)
        sections += ["### 2. Step hand-off latency (convert → segment)", "", *lines, ""]
        checks += found
    if "upload" in selected:
        print("· 200 MiB upload …", file=sys.stderr, flush=True)
        result_u = await bench_upload.run(size_mib=args.upload_mib)
        lines, found = bench_upload.report(result_u)
        sections += [f"### 3. Upload of a {args.upload_mib} MiB file", "", *lines, ""]
        checks += found
    elapsed = time.monotonic() - started
    header = [
        "## pagemill benchmark results",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {os.cpu_count()} cores ({_cpu_model()}), {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}",
        f"- Load generator: {tool_name()}; {args.duration:g} s per measurement after "
        f"{args.warmup:g} s warm-up; server and client share the machine",
        f"- Run time: {elapsed:.0f} s; 1-minute load average before the run: {load_before:.2f} "
        "(other processes on the machine skew the numbers)",
        "",
        "| Target | Measured | Goal | Pass |",
        "|---|---:|---:|:---:|",
        *(
            f"| {name} | {value} | {goal} | {'✅' if ok else '❌'} |"
            for name, value, goal, ok in checks
        ),
        "",
    ]
    return "\n".join(header + sections), all(ok for *_, ok in checks)


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # unwind, so every server context stops its process


def main() -> int:
    parser = argparse.ArgumentParser(description="Run pagemill's benchmarks.")
    parser.add_argument(
        "--only", action="append", choices=BENCHMARKS, help="run only this benchmark (repeatable)"
    )
    parser.add_argument(
        "--duration", type=float, default=5.0, help="seconds per load measurement (default 5)"
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=2.0,
        help="warm-up seconds before each load measurement (default 2)",
    )
    parser.add_argument(
        "--executions",
        type=int,
        default=200,
        help="executions for the hand-off benchmark (default 200)",
    )
    parser.add_argument(
        "--handoff-same-document",
        action="store_true",
        help="hand-off benchmark: submit the same document every time, so the executor "
        "cache answers (the target is measured with unique documents, the default)",
    )
    parser.add_argument(
        "--upload-mib", type=int, default=200, help="size of the uploaded file in MiB (default 200)"
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 1 when a target is missed"
    )
    parser.add_argument(
        "--no-save", action="store_true", help="do not write bench/results/latest.md"
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _terminate)
    try:
        report, passed = asyncio.run(_main(args))
    except KeyboardInterrupt:
        print("interrupted; benchmark servers stopped", file=sys.stderr)
        return 130
    print(report)
    if not args.no_save:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(report + "\n")
    return 1 if args.strict and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
