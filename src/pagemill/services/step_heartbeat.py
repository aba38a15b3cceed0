"""An attempt's heartbeat: renew its lease, relay its progress, notice it must stop.

Runs beside a step's work for as long as the work runs; it ends only when the lease is lost or
the execution is cancelled, saying which (the step runner then stops the work).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from pagemill.domain.clock import Clock
from pagemill.domain.models import StepRef
from pagemill.ports.ledger.steps import StepLedger
from pagemill.ports.live import LiveStore
from pagemill.services.live_mirror import LiveMirror
from pagemill.services.step_outcomes import StopReason
from pagemill.services.step_work import StepWork

log = logging.getLogger("pagemill.engine")

PROGRESS_SECONDS = 1.0  # how often a running step's progress is relayed to the live store


class Heartbeat:
    def __init__(
        self,
        steps: StepLedger,
        live: LiveStore,
        mirror: LiveMirror,
        work: StepWork,
        clock: Clock,
        *,
        lease_seconds: float,
        interval_seconds: float,
    ) -> None:
        self._steps = steps
        self._live = live
        self._mirror = mirror
        self._work = work
        self._clock = clock
        self._lease_seconds = lease_seconds
        self._interval = interval_seconds

    async def beat(self, ref: StepRef, worker: str) -> StopReason:
        """Renew the lease every ``interval_seconds`` and relay progress every second, until
        the lease is lost or a cancel is requested: the reason the work must stop."""
        loop = asyncio.get_running_loop()
        next_beat = loop.time() + self._interval
        last_progress: dict[str, Any] | None = None
        while True:
            await asyncio.sleep(min(PROGRESS_SECONDS, self._interval))
            await self._mirror.repair(ref.execution_id)  # a write the live store missed
            progress = self._work.progress(ref)
            if progress is not None and progress != last_progress:
                last_progress = progress
                with contextlib.suppress(Exception):
                    await self._live.progress(ref.execution_id, ref.step_index, progress)
            if loop.time() < next_beat:
                continue
            next_beat += self._interval
            now = self._clock.now()
            try:
                beat = await self._steps.heartbeat(ref, worker, now, self._lease_seconds)
            except Exception:  # a database blip: keep the work, try again next beat
                log.warning("heartbeat for %s failed; retrying", ref, exc_info=True)
                continue
            if not beat.held or beat.cancel_requested:
                return StopReason.CANCEL if beat.held else StopReason.LEASE_LOST
            with contextlib.suppress(Exception):
                await self._live.progress(
                    ref.execution_id, ref.step_index, {"heartbeat_at": now.isoformat()}
                )
