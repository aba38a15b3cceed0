"""Where the CPU goes in scale-out: py-spy on every node while executions/s is measured.

    python3 -m venv /tmp/pyspy && /tmp/pyspy/bin/pip install py-spy
    .venv/bin/python bench/scaleout/profile.py --py-spy /tmp/pyspy/bin/py-spy --workers 2

Starts a throw-away cluster (as ``run.py`` does), keeps 16 one-step executions in flight,
records the API node and each worker node with ``py-spy record --format raw`` (on-CPU
samples only) for the measurement window, and prints per node: CPU cores used (psutil), the
share of samples per package (inclusive: the package is anywhere on the stack; self: it is the
leaf) and the hottest pagemill/Procrastinate functions (inclusive). Not part of ``run.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scaleout.cluster import (
    DEFAULT_POSTGRES_URL,
    DEFAULT_REDIS_URL,
    Cluster,
    postgres_backend_pids,
    redis_space,
    running_cluster,
)
from scaleout.measure import INSTANT, ONE_PAGE, Target, throughput
from scaleout.node import SQL_COUNT_PREFIX
from scaleout.watchers import PostgresWatcher

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


# Leaves where a thread waits rather than works (py-spy's idle detection misses some of them);
# ``asyncio/runners.py:run`` is uvloop's loop in C: waiting on epoll or in C callbacks.
WAITING = {
    ("EpollSelector.select", "selectors"),
    ("Condition.wait", "threading"),
    ("_worker", "concurrent"),
    ("Runner.run", "asyncio"),
}


def _package(path: str) -> str:
    """py-spy prints paths relative to ``sys.path``: ``psycopg/cursor.py``, ``selectors.py``."""
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    if "/src/pagemill/" in path:
        return "pagemill"
    if "scaleout/" in path or "bench" in path:
        return "bench"
    return path.split("/", 1)[0].removesuffix(".py") or "?"


def summarize(raw: Path, top: int) -> list[str]:
    inclusive: collections.Counter[str] = collections.Counter()
    leaf: collections.Counter[str] = collections.Counter()
    leaf_functions: collections.Counter[str] = collections.Counter()
    functions: collections.Counter[str] = collections.Counter()
    total = waiting = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = []
        for frame in stack.split(";"):
            match = FRAME.match(frame)
            if match:
                frames.append((match["func"], match["file"]))
        if not frames:
            continue
        count = int(count_text)
        func, path = frames[-1]
        if (func, _package(path)) in WAITING:
            waiting += count
            continue
        total += count
        for package in {_package(f) for _, f in frames}:
            inclusive[package] += count
        leaf[_package(path)] += count
        leaf_functions[f"{path}:{func}"] += count
        seen = set()
        for func, path in frames:
            package = _package(path)
            if package in ("pagemill", "procrastinate"):
                name = f"{path.removesuffix('.py')}.{func}"
                if name not in seen:
                    seen.add(name)
                    functions[name] += count
    if not total:
        return ["  (no samples)"]
    lines = [f"  {total} working samples ({waiting} more waiting or in uvloop's C loop)"]
    for title, counter in (
        ("packages, inclusive", inclusive),
        ("packages, self (leaf)", leaf),
    ):
        lines.append(
            f"  {title}: " + ", ".join(f"{p} {n / total:.0%}" for p, n in counter.most_common(top))
        )
    for title, counter in (
        ("hottest leaves", leaf_functions),
        ("pagemill/procrastinate functions, inclusive", functions),
    ):
        lines.append(f"  {title}:")
        lines += [f"    {n / total:5.1%}  {name}" for name, n in counter.most_common(top)]
    return lines


def sql_counts(cluster: Cluster) -> dict[str, collections.Counter[str]]:
    """The latest ``SQLCOUNT`` totals printed by each node (``node.py --count-sql``)."""
    out = {}
    for node in cluster.nodes:
        lines = node.log_path.read_text(errors="replace").splitlines()
        last = next((ln for ln in reversed(lines) if ln.startswith(SQL_COUNT_PREFIX)), None)
        out[node.name] = collections.Counter(
            json.loads(last.removeprefix(SQL_COUNT_PREFIX)) if last else {}
        )
    return out


async def _completed(watcher: PostgresWatcher) -> int:
    return len(await watcher.completed())


async def _main(args: argparse.Namespace) -> None:
    with redis_space(args.redis_url) as space, tempfile.TemporaryDirectory() as tmp:
        async with running_cluster(
            args.postgres_url,
            space.url,
            space.execution_ids,
            processors="standard" if args.one_page else "bench",
            env={"PAGEMILL_PROCESS_POOL_SIZE": "1"} if args.one_page else None,
        ) as cluster:
            cluster.extra_node_args.append("--count-sql")
            api = await cluster.start_api()
            for _ in range(args.workers):
                await cluster.start_worker(args.concurrency)
            watcher = PostgresWatcher(cluster.database_url)
            await watcher.open()
            groups = {
                "API node": lambda: {api.pid},
                "worker nodes": lambda: {w.pid for w in cluster.workers},
                "PostgreSQL backends": lambda: (
                    postgres_backend_pids(cluster.database_url) - {watcher.backend_pid or -1}
                ),
            }
            target = Target("profile", api, watcher, groups, "redis", True, space.execution_ids)
            spies: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
            await asyncio.sleep(1.5)  # a fresh SQLCOUNT line from every node
            sql_before, done_before = sql_counts(cluster), await _completed(watcher)
            try:
                measuring = asyncio.create_task(
                    throughput(
                        target,
                        ONE_PAGE if args.one_page else INSTANT,
                        in_flight=16,
                        warmup=args.warmup,
                        duration=args.duration,
                    )
                )
                await asyncio.sleep(args.warmup)
                for name, pid in cluster.pagemill_pids().items():
                    out = Path(tmp) / f"{name}.txt"
                    spies[name] = (
                        subprocess.Popen(
                            [
                                args.py_spy,
                                "record",
                                "--pid",
                                str(pid),
                                "--duration",
                                str(int(args.duration)),
                                "--rate",
                                "200",
                                "--format",
                                "raw",
                                "--nonblocking",
                                "--subprocesses",
                                "--output",
                                str(out),
                            ],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                        ),
                        out,
                    )
                result = await measuring
            finally:
                for process, _ in spies.values():
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        await asyncio.to_thread(process.wait, args.duration + 30)
                    if process.poll() is None:
                        process.kill()
                if sys.exc_info()[0] is not None:
                    await watcher.close()
            await asyncio.sleep(1.5)
            sql_after, done_after = sql_counts(cluster), await _completed(watcher)
            await watcher.close()
            cpu = result.cpu
            print(
                f"{args.workers} worker(s): {result.rate:.1f} executions/s, {result.errors} errors"
            )
            if cpu is not None:
                print(
                    "cores: "
                    + ", ".join(f"{n} {cpu.cores(n):.2f}" for n in cpu.groups)
                    + f", other {cpu.other / cpu.wall:.2f}"
                    + f", machine {cpu.machine_busy / cpu.wall:.2f}"
                )
            executions = max(1, done_after - done_before)
            print(f"PostgreSQL round trips per execution ({executions} executions):")
            for name, after in sql_after.items():
                delta = after - sql_before.get(name, collections.Counter())
                total = sum(delta.values())
                print(
                    f"  {name}: {total / executions:.1f} — "
                    + ", ".join(f"{k} {n / executions:.2f}" for k, n in delta.most_common())
                )
            for name, (_, out) in spies.items():
                print(f"{name}:")
                print("\n".join(summarize(out, args.top) if out.exists() else ["  (no output)"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--py-spy", required=True, help="path of the py-spy executable")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--one-page",
        action="store_true",
        help="real processors on the one-page report (process pool of 1, children profiled)",
    )
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    args = parser.parse_args()
    try:
        asyncio.run(_main(args))
    except KeyboardInterrupt:
        print("interrupted; cluster stopped and removed", file=sys.stderr)


if __name__ == "__main__":
    main()
