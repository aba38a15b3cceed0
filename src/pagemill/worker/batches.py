"""The batch admitter loop: one per process that runs workers (the embedded server, each
``pagemill worker``), next to the webhook delivery loop.

It passes over the batch runs it can lease, at once again while there is work to do, and
every ``poll_seconds`` otherwise. Runs are leased in the ledger, so the loops of several
processes share them out and a run whose process died is taken over when its lease lapses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from pagemill.services.batch_admitter import BatchAdmitter
from pagemill.services.container import Runtime

log = logging.getLogger("pagemill.batches")

POLL_SECONDS = 0.5  # idle: how soon a new run, or a finished execution, is noticed
# Between busy passes: each pass writes (its leases, the files that ended), and the steps' own
# transactions should find the ledger free most of the time.
BUSY_PAUSE_SECONDS = 0.2


class BatchAdmitterLoop:
    def __init__(
        self, admitter: BatchAdmitter, *, identity: str, poll_seconds: float = POLL_SECONDS
    ) -> None:
        self._admitter = admitter
        self.identity = identity
        self._poll = poll_seconds
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="batch-admitter")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            try:
                await self._admitter.release(self.identity)
            except Exception:  # the leases lapse on their own
                log.warning("batch admitter: could not release its leases", exc_info=True)

    async def _run(self) -> None:
        while True:
            try:
                busy = await self._admitter.run_pass(self.identity)
            except asyncio.CancelledError:
                raise
            except Exception:
                # The ledger is down or a bug surfaced: never let the loop die; back off.
                log.exception("batch admitter: pass failed")
                busy = False
            await asyncio.sleep(BUSY_PAUSE_SECONDS if busy else self._poll)


@contextlib.asynccontextmanager
async def batch_admission(runtime: Runtime, identity: str) -> AsyncIterator[None]:
    """An admitter loop running for the duration of the block."""
    loop = BatchAdmitterLoop(runtime.services.batch_admitter, identity=f"{identity}/batches")
    await loop.start()
    try:
        yield
    finally:
        await loop.stop()
