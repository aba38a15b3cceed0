"""What operators ask of a running deployment: stuck steps, metrics."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable

from pagemill.domain.clock import Clock
from pagemill.domain.errors import NotFound, Unauthenticated
from pagemill.domain.models import StuckSteps
from pagemill.ports.ledger.executions import ExecutionLedger
from pagemill.ports.ledger.steps import StepLedger
from pagemill.ports.live import LiveStore
from pagemill.ports.metrics import Metrics


class OperationsService:
    def __init__(
        self,
        steps: StepLedger,
        executions: ExecutionLedger,
        ping_ledger: Callable[[], Awaitable[None]],
        live: LiveStore,
        metrics: Metrics,
        clock: Clock,
        *,
        lease_grace_seconds: float = 30.0,
        queued_too_long_seconds: float = 300.0,
        admin_token: str | None = None,
    ) -> None:
        self._steps = steps
        self._executions = executions
        self._ping_ledger = ping_ledger
        self._live = live
        self._metrics = metrics
        self._clock = clock
        self._lease_grace = lease_grace_seconds
        self._queued_too_long = queued_too_long_seconds
        # Only a digest is kept in memory, compared in constant time.
        self._admin_digest = _digest(admin_token) if admin_token else None

    def authorize_admin(self, token: str | None) -> None:
        """The admin API exists only when an admin token is configured."""
        if self._admin_digest is None:
            raise NotFound("Not Found")
        if not token or not hmac.compare_digest(self._admin_digest, _digest(token)):
            raise Unauthenticated("Missing or wrong X-Admin-Token.")

    async def readiness(self) -> dict[str, str]:
        """Ready when the ledger answers; a live store that does not answer only degrades
        reads to the ledger, so it is reported but does not make the process unready."""
        await self._ping_ledger()  # ServiceUnavailable propagates: not ready
        try:
            await self._live.get("pex_readiness_probe")
        except Exception:
            return {"status": "ready", "ledger": "ok", "live_store": "degraded"}
        return {"status": "ready", "ledger": "ok", "live_store": "ok"}

    async def stuck_steps(self) -> StuckSteps:
        return await self._steps.stuck(self._clock.now(), self._lease_grace, self._queued_too_long)

    async def scrape(self) -> tuple[bytes, str]:
        """Refresh the gauges that come from the ledger, then render every metric."""
        stuck = await self.stuck_steps()
        self._metrics.ledger_state(
            executions=await self._executions.counts(),
            queue=await self._steps.queue_depth(),
            stuck={
                "expired_lease": len(stuck.expired_leases),
                "queued_too_long": len(stuck.queued_too_long),
                "retried": len(stuck.retried),
            },
        )
        return self._metrics.render()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
