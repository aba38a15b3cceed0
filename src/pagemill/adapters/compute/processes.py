"""A pool of single-task worker processes.

Unlike ``ProcessPoolExecutor``, a child that dies (SIGKILL, OOM, segfault in a native parser)
fails only the task it was running, and its slot is replaced; the other tasks keep going. Each
child is recycled after ``max_tasks_per_child`` tasks to contain leaks in native libraries.

Children are warm before they take work: each imports the ``preload`` modules (the processors'
parsers, hundreds of milliseconds of imports) and reports ready, and a recycled child's
replacement is started in the background, so no step waits for an interpreter to start.

With ``memory_limit_bytes`` each child may grow its address space by at most that much past
what it holds once ready (``RLIMIT_AS``): past it, allocations fail (a ``MemoryError``, or a
native parser's error or crash) in the child, never in the parent.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import multiprocessing
import os
import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

from pagemill.ports.compute import ComputePool, WorkerCrashed

T = TypeVar("T")
logger = logging.getLogger(__name__)
READY_TIMEOUT_SECONDS = 120.0  # a child importing the parsers on a slow, busy machine


def _child_main(
    conn: Connection, preload: Sequence[str] = (), memory_limit_bytes: int | None = None
) -> None:
    # One thread per child: the pool size is the parallelism knob, not the libraries.
    os.environ["OMP_THREAD_LIMIT"] = "1"
    for module in preload:
        try:
            importlib.import_module(module)
        except Exception as exc:  # the task that needs it reports the real error
            conn.send(("preload-failed", f"{module}: {exc!r}"))
    if memory_limit_bytes is not None:
        _limit_address_space(memory_limit_bytes)
    conn.send(("ready", os.getpid()))
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


def _limit_address_space(extra_bytes: int) -> None:
    """Let this process map at most ``extra_bytes`` more than it has mapped now."""
    import resource  # POSIX only, like the pool's start method handling

    with open("/proc/self/statm") as statm:
        mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    wanted = mapped + extra_bytes
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))


@dataclass(eq=False)
class _Slot:
    process: BaseProcess
    conn: Connection
    tasks: int = 0
    pid: int = field(init=False)

    def __post_init__(self) -> None:
        self.pid = self.process.pid or 0


class ProcessComputePool(ComputePool):
    def __init__(
        self,
        size: int,
        max_tasks_per_child: int,
        start_method: str = "spawn",
        preload: Sequence[str] = (),
        memory_limit_bytes: int | None = None,
    ) -> None:
        self._size = size
        self._memory_limit = memory_limit_bytes
        self._max_tasks = max_tasks_per_child
        self._context = multiprocessing.get_context(start_method)
        self._preload = tuple(preload)
        self._idle: list[_Slot] = []
        self._replacing: set[asyncio.Task[None]] = set()  # recycled children's successors
        self._slots = asyncio.Semaphore(size)
        self._closed = False

    def _spawn(self) -> _Slot:
        """Start a child and wait until it has imported ``preload`` and is ready for work."""
        parent, child = self._context.Pipe()
        process = self._context.Process(  # type: ignore[attr-defined]
            target=_child_main, args=(child, self._preload, self._memory_limit), daemon=True
        )
        process.start()
        child.close()
        slot = _Slot(process=process, conn=parent)
        try:
            while True:
                if not parent.poll(READY_TIMEOUT_SECONDS):
                    raise WorkerCrashed("a worker process did not start in time")
                kind, detail = parent.recv()
                if kind == "ready":
                    return slot
                logger.warning("worker process could not preload %s", detail)
        except (EOFError, OSError, WorkerCrashed) as exc:
            self._kill(slot)
            if isinstance(exc, WorkerCrashed):
                raise
            raise WorkerCrashed(
                f"a worker process died while starting (exit code {process.exitcode})"
            ) from exc

    async def start(self) -> None:
        """Start every child now, so the first document does not pay for interpreter start-up."""
        missing = self._size - len(self._idle)
        self._idle.extend(
            await asyncio.gather(*(asyncio.to_thread(self._spawn) for _ in range(missing)))
        )

    def pids(self) -> list[int]:
        return [slot.pid for slot in self._idle]

    async def run(self, fn: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
        if self._closed:
            raise RuntimeError("the compute pool is closed")
        async with self._slots:
            slot = await self._acquire()
            healthy = False
            try:
                # On a timeout the call is cancelled, and a cancelled call kills its child.
                outcome, value = await asyncio.wait_for(
                    asyncio.to_thread(self._call, slot, fn, args), timeout
                )
                healthy = True
            finally:
                if healthy and slot.tasks < self._max_tasks and not self._closed:
                    self._idle.append(slot)
                elif healthy and not self._closed:
                    self._recycle(slot)
                elif healthy:
                    await asyncio.to_thread(self._stop, slot)
                else:
                    # Crashed, or cancelled mid-task (the step was cancelled or lost its
                    # lease): the child may be busy for minutes, so it is killed, not asked.
                    await asyncio.to_thread(self._kill, slot)
        if outcome == "error":
            raise value
        return value  # type: ignore[no-any-return]

    def _recycle(self, slot: _Slot) -> None:
        """Retire a child that did its share of tasks; start its successor in the background."""

        async def replace() -> None:
            await asyncio.to_thread(self._stop, slot)
            if not self._closed:
                fresh = await asyncio.to_thread(self._spawn)
                if self._closed:
                    await asyncio.to_thread(self._stop, fresh)
                else:
                    self._idle.append(fresh)

        task = asyncio.create_task(replace())
        self._replacing.add(task)
        task.add_done_callback(self._replaced)

    def _replaced(self, task: asyncio.Task[None]) -> None:
        self._replacing.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # The next task spawns a child itself (and reports the failure if it persists).
            logger.warning("could not replace a recycled worker process: %r", task.exception())

    async def _acquire(self) -> _Slot:
        while True:
            while self._idle:
                slot = self._idle.pop()
                if slot.process.is_alive():
                    return slot
                # Killed while idle (OOM killer, an operator): replace it, do not fail a task.
                await asyncio.to_thread(self._stop, slot)
            if not self._replacing:
                return await asyncio.to_thread(self._spawn)
            # A successor is starting: it is as quick to wait for it as to start another.
            await asyncio.wait(set(self._replacing), return_when=asyncio.FIRST_COMPLETED)

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
        if self._replacing:
            await asyncio.wait(set(self._replacing))
        idle, self._idle = self._idle, []
        await asyncio.gather(*(asyncio.to_thread(self._stop, slot) for slot in idle))
