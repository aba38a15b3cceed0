"""The embedded worker: one claim loop feeding N step slots, and a reaper, as tasks on the
server's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator

from pagemill.domain.clock import Clock
from pagemill.domain.ids import random_base62
from pagemill.ports.dispatch import Dispatcher
from pagemill.services.container import Runtime, Services
from pagemill.services.step_runner import StepRunner
from pagemill.worker.batches import batch_admission
from pagemill.worker.retention import retention_sweeper
from pagemill.worker.webhooks import webhook_deliveries

log = logging.getLogger("pagemill.worker")

IDLE_POLL_SECONDS = 1.0  # upper bound on a wait: a safety net, wake-ups come from the dispatcher


def worker_identity() -> str:
    """``host:pid:boot``: unique per process start, so a restart can tell its own leases."""
    return f"{socket.gethostname()}:{os.getpid()}:{random_base62(6)}"


class EmbeddedWorkers:
    """``concurrency`` step slots fed by one claim loop.

    Only the claim loop looks for work, and only while a slot is free: a dispatch wakes one
    claimer instead of every idle worker, each of which would otherwise run a claim transaction
    (and a ``next_due`` read) for a step only one of them can get.
    """

    def __init__(
        self,
        runner: StepRunner,
        dispatcher: Dispatcher,
        clock: Clock,
        *,
        concurrency: int,
        reaper_interval_seconds: float,
        identity: str | None = None,
    ) -> None:
        self._runner = runner
        self._dispatcher = dispatcher
        self._clock = clock
        self._concurrency = concurrency
        self._reaper_interval = reaper_interval_seconds
        self.identity = identity or worker_identity()
        self._tasks: list[asyncio.Task[None]] = []
        # Lease-owner names of the free slots; a running step holds its slot's name.
        self._free: list[str] = []
        self._slot_freed = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()
        self._stopping = False

    async def start(self) -> None:
        recovered = await self._runner.recover_previous_boot(self.identity)
        if recovered:
            log.warning("requeued %d step(s) left running by a previous start", recovered)
        self._free = [f"{self.identity}/{slot}" for slot in reversed(range(self._concurrency))]
        self._tasks = [
            asyncio.create_task(self._claim_loop(), name="claimer"),
            asyncio.create_task(self._reaper_loop(), name="reaper"),
        ]

    async def stop(self, grace_seconds: float = 0.0) -> None:
        """Stop claiming, let running steps finish for ``grace_seconds``, release the rest."""
        self._stopping = True
        await self._runner.release_all(grace_seconds)
        tasks = [*self._tasks, *self._running]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _claim_loop(self) -> None:
        while not self._stopping:
            if not self._free:
                self._slot_freed.clear()
                await self._slot_freed.wait()
                continue
            generation = self._dispatcher.generation()
            worker = self._free[-1]
            try:
                attempt = await self._runner.start_next(worker)
                if attempt is not None:
                    self._free.pop()
                    self._occupy(attempt, worker)
                    continue
                timeout = await self._idle_timeout()
            except asyncio.CancelledError:
                raise
            except Exception:
                # The ledger is down or a bug surfaced: never let the loop die; back off.
                log.exception("worker %s: claim loop error", worker)
                await asyncio.sleep(1.0)
                continue
            await self._dispatcher.wait(generation, timeout)

    def _occupy(self, task: asyncio.Task[None], worker: str) -> None:
        """The slot ``worker`` is busy until the attempt ``task`` has ended."""
        self._running.add(task)

        def done(task: asyncio.Task[None]) -> None:
            self._running.discard(task)
            self._free.append(worker)
            self._slot_freed.set()
            if not task.cancelled() and task.exception() is not None:
                log.error("worker %s: step run error", worker, exc_info=task.exception())

        task.add_done_callback(done)

    async def _idle_timeout(self) -> float:
        due = await self._runner.next_due()
        if due is None:
            return IDLE_POLL_SECONDS
        seconds = (due - self._clock.now()).total_seconds()
        return min(IDLE_POLL_SECONDS, max(0.0, seconds))

    async def _reaper_loop(self) -> None:
        while True:
            await asyncio.sleep(self._reaper_interval)
            try:
                await self._runner.reap()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reaper error")


@contextlib.asynccontextmanager
async def embedded(runtime: Runtime) -> AsyncIterator[Services]:
    """The runtime's services with ``config.workers`` workers running in this process: a
    local claim loop feeding that many step slots and a reaper, or a Procrastinate worker when
    the runtime has a queue."""
    config = runtime.config
    if config.workers == 0:
        yield runtime.services
        return
    if runtime.queue is not None:
        task = asyncio.create_task(
            run_queue_worker(runtime, queues=None, concurrency=config.workers)
        )
        try:
            yield runtime.services
        finally:
            await runtime.services.runner.release_all(config.shutdown_grace_seconds)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        return
    workers = EmbeddedWorkers(
        runtime.services.runner,
        runtime.dispatcher,
        runtime.clock,
        concurrency=config.workers,
        reaper_interval_seconds=config.reaper_interval_seconds,
    )
    await workers.start()
    try:
        async with (
            webhook_deliveries(runtime, workers.identity),
            retention_sweeper(runtime),
            batch_admission(runtime, workers.identity),
        ):
            yield runtime.services
    finally:
        await workers.stop(config.shutdown_grace_seconds)


async def run_queue_worker(runtime: Runtime, *, queues: list[str] | None, concurrency: int) -> None:
    """Serve steps delivered by the queue until cancelled; also take turns at reaping, and
    deliver webhooks and admit batch runs."""
    identity = worker_identity()
    async with (
        webhook_deliveries(runtime, identity),
        retention_sweeper(runtime),
        batch_admission(runtime, identity),
    ):
        await _serve_queue(runtime, queues=queues, concurrency=concurrency, identity=identity)


async def _serve_queue(
    runtime: Runtime, *, queues: list[str] | None, concurrency: int, identity: str
) -> None:
    queue = runtime.queue
    if queue is None:
        raise RuntimeError("this runtime has no queue: run embedded workers instead")
    runner = runtime.services.runner
    queue.handler = lambda ref: runner.claim_and_run(ref, identity)

    async def reap() -> None:
        await runner.reap()

    queue.reaper = reap
    backoff = 0.5
    while True:
        try:
            await queue.open()
            try:
                await queue.run_worker(queues=queues, concurrency=concurrency, name=identity)
            finally:
                await queue.close()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            # The database went away (restart, failover): the ledger keeps every step safe,
            # so wait and reconnect instead of dying.
            log.exception("queue worker stopped; reconnecting in %.1f s", backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)
