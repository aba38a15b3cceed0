"""Sending webhooks: one POST, bounded, behind the URL guard (the ledger's webhook area is
``ports.ledger.webhooks``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping

from pagemill.domain.webhooks import SendResult


class WebhookSender(ABC):
    @abstractmethod
    async def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult:
        """POST ``body`` to ``url`` once; never raises for what the network or the receiver
        does (timeouts, refused connections, error statuses are all in the result).

        Implementations bound the whole request in time, read at most a small part of the
        answer, follow no redirect, and refuse URLs that point at non-public addresses
        (``SendResult.refused``).
        """
