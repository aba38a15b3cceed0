"""Webhook ports: the ledger's webhook half (secrets, deliveries, the log) and the sender."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import datetime

from pagemill.domain.webhooks import AttemptOutcome, SendResult, WebhookDelivery, WebhookSecret


class WebhookLedger(ABC):
    """Mixed into ``Ledger``. Deliveries themselves are recorded by the ledger's own
    transitions (completion, failure, cancellation) in the transaction that made them due."""

    # -- secrets -----------------------------------------------------------------------------
    @abstractmethod
    async def webhook_secret(self, team_id: str) -> WebhookSecret | None: ...

    @abstractmethod
    async def create_webhook_secret(
        self, team_id: str, secret: str, now: datetime
    ) -> WebhookSecret:
        """Store ``secret`` unless the team has one already; return the one stored."""

    @abstractmethod
    async def rotate_webhook_secret(
        self, team_id: str, secret: str, now: datetime, previous_valid_until: datetime
    ) -> WebhookSecret:
        """Make ``secret`` current; the one it replaces stays valid until the given time."""

    # -- delivery loops ----------------------------------------------------------------------
    @abstractmethod
    async def claim_webhook_delivery(
        self, worker: str, now: datetime, lease_seconds: float
    ) -> WebhookDelivery | None:
        """Claim the delivery due first (compare-and-set: its ``attempt`` becomes attempt + 1,
        state ``sending``, claim lapsing after ``lease_seconds``); None when nothing is due."""

    @abstractmethod
    async def finish_webhook_attempt(
        self,
        delivery_id: str,
        attempt: int,
        worker: str,
        started_at: datetime,
        duration_ms: int,
        outcome: AttemptOutcome,
        now: datetime,
    ) -> bool:
        """Log the attempt; move the delivery to ``outcome`` if this claim still holds it."""

    @abstractmethod
    async def next_webhook_due(self) -> datetime | None:
        """When the earliest pending delivery (or lapsing claim) is due; None: none."""

    # -- the delivery log --------------------------------------------------------------------
    @abstractmethod
    async def webhook_deliveries(
        self, execution_id: str, team_id: str
    ) -> list[WebhookDelivery] | None:
        """Oldest first, with attempts; None when the execution is not the team's."""

    @abstractmethod
    async def redeliver_webhook(
        self, execution_id: str, delivery_id: str, team_id: str, now: datetime
    ) -> WebhookDelivery | None:
        """Queue an attempt now (retry schedule restarted); None when not the team's;
        ``Conflict`` while an attempt is in flight."""


class WebhookSender(ABC):
    @abstractmethod
    async def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult:
        """POST ``body`` to ``url`` once; never raises for what the network or the receiver
        does (timeouts, refused connections, error statuses are all in the result).

        Implementations bound the whole request in time, read at most a small part of the
        answer, follow no redirect, and refuse URLs that point at non-public addresses
        (``SendResult.refused``).
        """
