"""The ledger's webhook area: team secrets, deliveries and their attempt log.

Deliveries themselves are recorded by the step and execution transitions (completion, failure,
cancellation) in the transaction that made them due; this area claims, finishes and lists them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from pagemill.domain.webhooks import AttemptOutcome, WebhookDelivery, WebhookSecret


class WebhookLedger(ABC):
    # -- secrets -----------------------------------------------------------------------------
    @abstractmethod
    async def secret(self, team_id: str) -> WebhookSecret | None: ...

    @abstractmethod
    async def create_secret(self, team_id: str, secret: str, now: datetime) -> WebhookSecret:
        """Store ``secret`` unless the team has one already; return the one stored."""

    @abstractmethod
    async def rotate_secret(
        self, team_id: str, secret: str, now: datetime, previous_valid_until: datetime
    ) -> WebhookSecret:
        """Make ``secret`` current; the one it replaces stays valid until the given time."""

    # -- delivery loops ----------------------------------------------------------------------
    @abstractmethod
    async def claim(
        self, worker: str, now: datetime, lease_seconds: float
    ) -> WebhookDelivery | None:
        """Claim the delivery due first (compare-and-set: its ``attempt`` becomes attempt + 1,
        state ``sending``, claim lapsing after ``lease_seconds``); None when nothing is due."""

    @abstractmethod
    async def finish_attempt(
        self,
        delivery_id: str,
        attempt: int,
        worker: str,
        started_at: datetime,
        duration_ms: int,
        outcome: AttemptOutcome,
        now: datetime,
    ) -> bool:
        """Log the attempt; move the delivery to ``outcome`` if this claim still holds it.

        False: the claim lapsed (another loop took the delivery over); only the log changed.
        """

    @abstractmethod
    async def next_due(self) -> datetime | None:
        """When the earliest pending delivery (or lapsing claim) is due; None: none."""

    # -- the delivery log --------------------------------------------------------------------
    @abstractmethod
    async def deliveries(self, execution_id: str, team_id: str) -> list[WebhookDelivery] | None:
        """Oldest first, with attempts; None when the execution is not the team's."""

    @abstractmethod
    async def redeliver(
        self, execution_id: str, delivery_id: str, team_id: str, now: datetime
    ) -> WebhookDelivery | None:
        """Queue an attempt now (retry schedule restarted); None when not the team's;
        ``Conflict`` while an attempt is in flight."""
