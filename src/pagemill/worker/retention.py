"""The retention sweeper: in every process that runs steps (the embedded server, each
``pagemill worker``), a loop that purges expired executions in bounded passes.

Each pass purges at most a batch, one short transaction per execution, and deletes blobs off
the event loop's critical path; a pass that filled its batch is followed by the next at once
(after yielding), otherwise the loop sleeps. Sweepers of several processes may run at once:
each purge is a compare-and-set, so an execution is purged by exactly one of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from pagemill.services.container import Runtime
from pagemill.services.retention import RetentionService

log = logging.getLogger("pagemill.retention")


async def sweep_forever(service: RetentionService, interval_seconds: float) -> None:
    # The first pass waits an interval too: a process starting up has better things to do.
    await asyncio.sleep(interval_seconds)
    while True:
        try:
            report = await service.sweep()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("retention sweep failed")
            report = None
        if report is not None and report.purged:
            log.info(
                "retention: purged %d execution(s), deleted %d blob(s)",
                report.purged,
                report.blobs_deleted,
            )
        if report is not None and report.purged >= service.batch_size:
            await asyncio.sleep(0)  # a backlog: go on, but let everything else run first
            continue
        await asyncio.sleep(interval_seconds)


@contextlib.asynccontextmanager
async def retention_sweeper(runtime: Runtime) -> AsyncIterator[None]:
    task = asyncio.create_task(
        sweep_forever(runtime.services.retention, runtime.config.retention_sweep_interval_seconds),
        name="retention-sweeper",
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
