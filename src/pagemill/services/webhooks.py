"""Webhooks: team secrets, the delivery log, and sending one claimed delivery.

The ledger records a delivery in the transaction that made it due (see
``domain.webhooks.due_events``). Delivery loops (``worker.webhooks``) claim due deliveries
from the ledger, and this service signs each attempt with the team's secret (Standard
Webhooks), sends it through the ``WebhookSender`` port and records the outcome: delivered,
retried later with backoff, or failed. Nothing here ever blocks or fails an execution.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pagemill.domain.clock import Clock
from pagemill.domain.errors import Forbidden, NotFound
from pagemill.domain.models import ExecutionSnapshot
from pagemill.domain.teams import MANAGER_ROLES, Role
from pagemill.domain.webhook_signing import new_secret, signed_headers
from pagemill.domain.webhooks import (
    AttemptOutcome,
    RetryPolicy,
    SendResult,
    WebhookDelivery,
    WebhookSecret,
    decide,
    encode_body,
    with_base_url,
)
from pagemill.logs import log_context
from pagemill.ports.ledger.secrets import webhook_secret_purpose
from pagemill.ports.ledger.webhooks import WebhookLedger
from pagemill.ports.webhooks import WebhookSender
from pagemill.services.secret_box import SecretBox

log = logging.getLogger("pagemill.webhooks")


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    public_url: str | None = None  # makes the payload's check URLs absolute
    rotation_grace_seconds: float = 86400.0  # a rotated-out secret keeps signing this long
    lease_seconds: float = 60.0  # a claim lapses after this (its sender is presumed lost)


class WebhookService:
    def __init__(
        self,
        webhooks: WebhookLedger,
        sender: WebhookSender,
        clock: Clock,
        config: WebhookConfig | None = None,
        *,
        rng: random.Random | None = None,
        box: SecretBox | None = None,
    ) -> None:
        """``box`` seals the team secrets in the ledger (default: stored as they are)."""
        self._webhooks = webhooks
        self._sender = sender
        self._clock = clock
        self._config = config or WebhookConfig()
        self._rng = rng or random.Random()
        self._box = box or SecretBox(None)
        self._generation = 0
        self._changed = asyncio.Event()

    @property
    def config(self) -> WebhookConfig:
        return self._config

    # -- secrets -----------------------------------------------------------------------------
    async def secret(self, team_id: str) -> WebhookSecret:
        """The team's signing secret, created on first use."""
        stored = await self._webhooks.secret(team_id)
        if stored is None:
            stored = await self._webhooks.create_secret(
                team_id, self._seal(team_id, new_secret()), self._clock.now()
            )
        return self._opened(stored)

    def _seal(self, team_id: str, secret: str) -> str:
        return self._box.seal(webhook_secret_purpose(team_id), secret)

    def _opened(self, stored: WebhookSecret) -> WebhookSecret:
        purpose = webhook_secret_purpose(stored.team_id)
        previous = stored.previous_secret
        return dataclasses.replace(
            stored,
            secret=self._box.open(purpose, stored.secret),
            previous_secret=None if previous is None else self._box.open(purpose, previous),
        )

    async def secret_for(self, team_id: str, actor: Role) -> WebhookSecret:
        """The secret as the API shows it: to owners and admins only. Whoever holds it can
        sign webhooks the team's receivers trust, so a plain member may not read it."""
        if actor not in MANAGER_ROLES:
            raise Forbidden("Only the team's owners and admins can read its webhook secret.")
        return await self.secret(team_id)

    async def rotate_secret(self, team_id: str, actor: Role) -> WebhookSecret:
        """A new secret; the previous one also signs for ``rotation_grace_seconds``. Owners
        and admins read and rotate it."""
        if actor not in MANAGER_ROLES:
            raise Forbidden("Only the team's owners and admins can rotate its webhook secret.")
        now = self._clock.now()
        until = now + timedelta(seconds=self._config.rotation_grace_seconds)
        rotated = await self._webhooks.rotate_secret(
            team_id, self._seal(team_id, new_secret()), now, until
        )
        return self._opened(rotated)

    # -- the delivery log --------------------------------------------------------------------
    async def deliveries(self, team_id: str, execution_id: str) -> list[WebhookDelivery]:
        found = await self._webhooks.deliveries(execution_id, team_id)
        if found is None:
            raise NotFound(f"Execution {execution_id} not found")
        return found

    async def redeliver(self, team_id: str, execution_id: str, delivery_id: str) -> WebhookDelivery:
        """Queue an attempt now; the retry schedule starts over if it fails."""
        delivery = await self._webhooks.redeliver(
            execution_id, delivery_id, team_id, self._clock.now()
        )
        if delivery is None:
            raise NotFound(f"Webhook delivery {delivery_id} of execution {execution_id} not found")
        self._wake()
        return delivery

    def payload(self, delivery: WebhookDelivery) -> dict[str, object]:
        """What is sent: the stored payload with absolute URLs when ``public_url`` is set."""
        return with_base_url(delivery.payload, self._config.public_url)

    # -- waking delivery loops ---------------------------------------------------------------
    def notice(self, snapshot: ExecutionSnapshot) -> None:
        """A committed snapshot was published: wake local loops if it may have made a
        webhook due (loops elsewhere find it when they next poll)."""
        if snapshot.execution.input_config.get("webhook_url"):
            self._wake()

    def generation(self) -> int:
        return self._generation

    async def wait(self, since: int, timeout: float) -> None:
        """Until something may have become due after ``generation() == since``, or timeout."""
        if self._generation != since:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, timeout)):
                await self._changed.wait()

    def _wake(self) -> None:
        self._generation += 1
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    # -- delivering --------------------------------------------------------------------------
    async def claim(self, worker: str) -> WebhookDelivery | None:
        return await self._webhooks.claim(worker, self._clock.now(), self._config.lease_seconds)

    async def next_due(self) -> datetime | None:
        return await self._webhooks.next_due()

    async def send(self, delivery: WebhookDelivery, worker: str) -> AttemptOutcome | None:
        """Make the attempt ``delivery.attempt`` (claimed by ``worker``) and record it.

        None when the outcome could not be recorded (the ledger is unreachable, or the claim
        lapsed): the claim then lapses and another attempt follows.
        """
        with log_context(execution_id=delivery.execution_id, delivery_id=delivery.delivery_id):
            return await self._send(delivery, worker)

    async def _send(self, delivery: WebhookDelivery, worker: str) -> AttemptOutcome | None:
        started = self._clock.now()
        try:
            secret = await self.secret(delivery.team_id)
            body = encode_body(self.payload(delivery))
            headers = signed_headers(
                secret.signing_secrets(started),
                delivery.delivery_id,
                int(started.timestamp()),
                body,
            )
        except Exception:
            log.warning(
                "webhook %s: could not prepare the attempt",
                delivery.delivery_id,
                exc_info=True,
            )
            return None
        try:
            result = await self._sender.send(delivery.url, body, headers)
        except Exception as exc:  # a bug in the sender must not kill the loop
            log.exception("webhook %s: the sender failed", delivery.delivery_id)
            result = SendResult(error=f"Internal error: {type(exc).__name__}")
        finished = self._clock.now()
        outcome = decide(
            result, delivery, delivery.attempt, finished, self._config.retry, self._rng
        )
        try:
            held = await self._webhooks.finish_attempt(
                delivery.delivery_id,
                delivery.attempt,
                worker,
                started,
                round(result.duration_seconds * 1000),
                outcome,
                finished,
            )
        except Exception:
            log.warning(
                "webhook %s: could not record attempt %d",
                delivery.delivery_id,
                delivery.attempt,
                exc_info=True,
            )
            return None
        finally:
            # Loops waiting for this claim to lapse must re-read when the delivery is due next.
            self._wake()
        if not held:
            log.warning(
                "webhook %s: attempt %d finished after its claim lapsed",
                delivery.delivery_id,
                delivery.attempt,
            )
            return None
        log.info(
            "webhook %s (%s) attempt %d: %s%s",
            delivery.delivery_id,
            delivery.event,
            delivery.attempt,
            outcome.state.value,
            f" ({outcome.error})" if outcome.error else "",
        )
        return outcome
