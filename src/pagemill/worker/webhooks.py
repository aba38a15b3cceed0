"""The webhook delivery loop: claims due deliveries from the ledger and sends them.

One loop per process that runs steps (the embedded server, each ``pagemill worker``). It
claims a delivery only when one of its ``concurrency`` sending slots is free, so a receiver
that hangs holds one slot for at most the request timeout. The ledger's compare-and-set claim
keeps loops of different processes from sending the same attempt. Loops wake at once for
webhooks made due in their own process, and poll the ledger otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from pagemill.domain.clock import Clock
from pagemill.domain.webhooks import WebhookDelivery
from pagemill.services.container import Runtime
from pagemill.services.webhooks import WebhookService

log = logging.getLogger("pagemill.webhooks")

POLL_SECONDS = 1.0  # upper bound on an idle wait: deliveries made due elsewhere are found
MIN_WAIT_SECONDS = 0.02


class WebhookDeliveryLoop:
    def __init__(
        self,
        service: WebhookService,
        clock: Clock,
        *,
        identity: str,
        concurrency: int = 4,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._service = service
        self._clock = clock
        self.identity = identity
        self._slots = asyncio.Semaphore(max(1, concurrency))
        self._poll = poll_seconds
        self._sending: set[asyncio.Task[None]] = set()
        self._loop: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._loop = asyncio.create_task(self._run(), name="webhook-deliveries")

    async def stop(self, grace_seconds: float) -> None:
        """Claim nothing more; let attempts in flight end for ``grace_seconds``, then cancel
        them (their claims lapse and another loop sends them again)."""
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None
        pending = list(self._sending)
        if pending:
            await asyncio.wait(pending, timeout=grace_seconds)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await self._slots.acquire()
            generation = self._service.generation()
            try:
                delivery = await self._service.claim(self.identity)
            except asyncio.CancelledError:
                self._slots.release()
                raise
            except Exception:
                # The ledger is down or a bug surfaced: never let the loop die; back off.
                self._slots.release()
                log.exception("webhook delivery loop: claim failed")
                await asyncio.sleep(1.0)
                continue
            if delivery is None:
                self._slots.release()
                await self._service.wait(generation, await self._idle_timeout())
                continue
            task = asyncio.create_task(self._send(delivery), name=delivery.delivery_id)
            self._sending.add(task)
            task.add_done_callback(self._sent)

    async def _send(self, delivery: WebhookDelivery) -> None:
        await self._service.send(delivery, self.identity)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        self._slots.release()
        if not task.cancelled() and task.exception() is not None:
            log.error("webhook delivery %s failed", task.get_name(), exc_info=task.exception())

    async def _idle_timeout(self) -> float:
        try:
            due = await self._service.next_due()
        except asyncio.CancelledError:
            raise
        except Exception:
            return self._poll
        if due is None:
            return self._poll
        seconds = (due - self._clock.now()).total_seconds()
        # A due row another loop holds right now must not make this one spin.
        return min(self._poll, max(MIN_WAIT_SECONDS, seconds))


@contextlib.asynccontextmanager
async def webhook_deliveries(runtime: Runtime, identity: str) -> AsyncIterator[None]:
    """A delivery loop running for the duration of the block."""
    config = runtime.config
    loop = WebhookDeliveryLoop(
        runtime.services.webhooks,
        runtime.clock,
        identity=f"{identity}/webhooks",
        concurrency=config.webhook_concurrency,
    )
    await loop.start()
    try:
        yield
    finally:
        await loop.stop(min(config.shutdown_grace_seconds, config.webhook_timeout_seconds))
