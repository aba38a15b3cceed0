"""CPU time of the process groups under test, read around each measurement (psutil)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil

PidSource = Callable[[], set[int]]


def _cpu_seconds(pid: int) -> float | None:
    """The CPU of ``pid`` and of its children that ended and were waited for (a recycled
    process-pool child, whose CPU would otherwise vanish with it)."""
    try:
        times = psutil.Process(pid).cpu_times()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    return float(times.user + times.system + times.children_user + times.children_system)


def _parent(pid: int) -> int | None:
    try:
        return psutil.Process(pid).ppid()
    except psutil.Error:
        return None


def _self_cpu_seconds() -> float:
    t = psutil.Process().cpu_times()  # children: wrk runs are waited for, so they count
    return float(t.user + t.system + t.children_user + t.children_system)


def _machine_busy_seconds() -> float:
    t = psutil.cpu_times()
    return float(t.user + t.nice + t.system + getattr(t, "irq", 0) + getattr(t, "softirq", 0))


@dataclass
class CpuUsage:
    wall: float
    groups: dict[str, float]  # name → CPU seconds
    machine_busy: float  # CPU seconds used by everything on the machine

    def cores(self, name: str) -> float:
        return self.groups.get(name, 0.0) / self.wall if self.wall else 0.0

    @property
    def other(self) -> float:
        return max(0.0, self.machine_busy - sum(self.groups.values()))


class CpuMeter:
    """CPU time of named process groups between ``start`` and ``stop`` (psutil).

    A group's PIDs are read at both ends, so PostgreSQL backends that connect meanwhile count
    too (from their start). The benchmark's own process (with ``wrk``) is ``bench client``.
    """

    def __init__(self, groups: dict[str, PidSource]) -> None:
        self._groups = groups
        self._start: dict[str, dict[int, float]] = {}
        self._parents: dict[int, int | None] = {}
        self._t0 = 0.0
        self._self0 = 0.0
        self._busy0 = 0.0

    def _read(self, pids: set[int]) -> dict[int, float]:
        out = {}
        for pid in pids:
            seconds = _cpu_seconds(pid)
            if seconds is not None:
                out[pid] = seconds
        return out

    def start(self) -> None:
        self._start = {name: self._read(source()) for name, source in self._groups.items()}
        self._parents = {pid: _parent(pid) for pids in self._start.values() for pid in pids}
        self._t0 = time.monotonic()
        self._self0 = _self_cpu_seconds()
        self._busy0 = _machine_busy_seconds()

    def stop(self) -> CpuUsage:
        wall = time.monotonic() - self._t0
        groups: dict[str, float] = {}
        for name, source in self._groups.items():
            before = self._start.get(name, {})
            now = self._read(source() | set(before))
            total = sum(max(0.0, cpu - before.get(pid, 0.0)) for pid, cpu in now.items())
            # A child that ended in the window (a recycled pool process) is now in its parent's
            # children times for its whole life: take off what it had used before the window.
            total -= sum(
                cpu for pid, cpu in before.items() if pid not in now and self._parents[pid] in now
            )
            groups[name] = max(0.0, total)
        groups["bench client (+wrk)"] = _self_cpu_seconds() - self._self0
        return CpuUsage(wall, groups, _machine_busy_seconds() - self._busy0)


async def wait_quiet(
    groups: dict[str, PidSource],
    *,
    threshold: float,
    timeout: float,
    progress: Callable[[str], None],
) -> float:
    """Wait (at most ``timeout`` s) until the rest of the machine (not the processes under test,
    not this one) uses less than ``threshold`` cores over 2 s; return that last reading."""
    deadline = time.monotonic() + timeout
    waited = False
    while True:
        meter = CpuMeter(groups)
        meter.start()
        await asyncio.sleep(2.0)
        usage = meter.stop()
        other = usage.other / usage.wall
        if other < threshold or time.monotonic() >= deadline:
            if waited:
                progress(f"  (the rest of the machine now uses {other:.2f} cores)")
            return other
        if not waited:
            progress(f"  waiting for a quieter machine: other processes use {other:.2f} cores")
            waited = True
