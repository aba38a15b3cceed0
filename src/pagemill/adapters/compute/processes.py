"""A pool of single-task worker processes.

Unlike ``ProcessPoolExecutor``, a child that dies (SIGKILL, OOM, segfault in a native parser)
fails only the task it was running, and its slot is replaced; the other tasks keep going. Each
child is recycled after ``max_tasks_per_child`` tasks to contain leaks in native libraries.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

from pagemill.ports.compute import ComputePool, WorkerCrashed

T = TypeVar("T")


def _child_main(conn: Connection) -> None:
    # One thread per child: the pool size is the parallelism knob, not the libraries.
    os.environ["OMP_THREAD_LIMIT"] = "1"
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        fn, args = message
        try:
            reply: tuple[str, Any] = ("ok", fn(*args))
        except BaseException as exc:
            reply = ("error", exc)
        try:
            conn.send(reply)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            conn.send(("error", RuntimeError(f"unpicklable result or error: {exc!r}")))


@dataclass(eq=False)
class _Slot:
    process: BaseProcess
    conn: Connection
    tasks: int = 0
    pid: int = field(init=False)

    def __post_init__(self) -> None:
        self.pid = self.process.pid or 0


class ProcessComputePool(ComputePool):
    def __init__(self, size: int, max_tasks_per_child: int, start_method: str = "spawn") -> None:
        self._size = size
        self._max_tasks = max_tasks_per_child
        self._context = multiprocessing.get_context(start_method)
        self._idle: list[_Slot] = []
        self._slots = asyncio.Semaphore(size)
        self._closed = False

    def _spawn(self) -> _Slot:
        parent, child = self._context.Pipe()
        process = self._context.Process(  # type: ignore[attr-defined]
            target=_child_main, args=(child,), daemon=True
        )
        process.start()
        child.close()
        return _Slot(process=process, conn=parent)

    async def start(self) -> None:
        """Start every child now, so the first document does not pay for interpreter start-up."""
        missing = self._size - len(self._idle)
        self._idle.extend(
            await asyncio.gather(*(asyncio.to_thread(self._spawn) for _ in range(missing)))
        )

    def pids(self) -> list[int]:
        return [slot.pid for slot in self._idle]

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise RuntimeError("the compute pool is closed")
        async with self._slots:
            slot = await self._acquire()
            healthy = False
            try:
                outcome, value = await asyncio.to_thread(self._call, slot, fn, args)
                healthy = True
            finally:
                if healthy and slot.tasks < self._max_tasks and not self._closed:
                    self._idle.append(slot)
                elif healthy:
                    await asyncio.to_thread(self._stop, slot)
                else:
                    # Crashed, or cancelled mid-task (the step was cancelled or lost its
                    # lease): the child may be busy for minutes, so it is killed, not asked.
                    await asyncio.to_thread(self._kill, slot)
        if outcome == "error":
            raise value
        return value  # type: ignore[no-any-return]

    async def _acquire(self) -> _Slot:
        while self._idle:
            slot = self._idle.pop()
            if slot.process.is_alive():
                return slot
            # Killed while idle (OOM killer, an operator): replace it, do not fail a task on it.
            await asyncio.to_thread(self._stop, slot)
        return await asyncio.to_thread(self._spawn)

    @staticmethod
    def _call(slot: _Slot, fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[str, Any]:
        slot.tasks += 1
        try:
            slot.conn.send((fn, args))
            result: tuple[str, Any] = slot.conn.recv()
        except (EOFError, OSError, ConnectionError) as exc:
            slot.process.join(timeout=1)
            raise WorkerCrashed(
                f"the worker process running this step died (exit code {slot.process.exitcode})"
            ) from exc
        return result

    @staticmethod
    def _kill(slot: _Slot) -> None:
        if slot.process.is_alive():
            slot.process.kill()
        slot.process.join(timeout=5)
        slot.conn.close()

    @staticmethod
    def _stop(slot: _Slot) -> None:
        with contextlib.suppress(OSError, BrokenPipeError):
            slot.conn.send(None)
        slot.process.join(timeout=2)
        if slot.process.is_alive():
            slot.process.kill()
            slot.process.join(timeout=2)
        slot.conn.close()

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        await asyncio.gather(*(asyncio.to_thread(self._stop, slot) for slot in idle))
