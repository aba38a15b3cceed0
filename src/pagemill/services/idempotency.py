"""Idempotent submission: fingerprint a request made with an ``Idempotency-Key`` and find the
execution an earlier identical request created.

The cheap check here (one read) answers most retries before any work; the ledger's unique
constraint, checked again in the transaction that creates the execution, decides the races.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from pagemill.domain.clock import Clock
from pagemill.domain.errors import IdempotencyMismatch
from pagemill.domain.idempotency import IdempotencyClaim, IdempotentRequest, request_fingerprint
from pagemill.ports.ledger.idempotency import IdempotencyLedger


class Idempotency:
    def __init__(self, keys: IdempotencyLedger, clock: Clock, ttl_seconds: float) -> None:
        self._keys = keys
        self._clock = clock
        self.ttl_seconds = ttl_seconds

    def claim(
        self,
        request: IdempotentRequest,
        options: Mapping[str, Any],
        document: Mapping[str, Any],
    ) -> IdempotencyClaim:
        """The claim of ``request``: ``options`` are its run options, ``document`` what names
        its input (the content's hash and filename of an upload, or its ``file_url``)."""
        fingerprint = request_fingerprint(
            {
                "scope": request.scope,
                "fields": dict(request.fields or {}),
                "options": dict(options),
                "document": dict(document),
            }
        )
        expires_at = self._clock.now() + timedelta(seconds=self.ttl_seconds)
        return IdempotencyClaim(request.key, fingerprint, expires_at)

    async def earlier(self, team_id: str, claim: IdempotencyClaim) -> str | None:
        """The execution an earlier request with this key created, if the key is live and the
        request is the same one; ``IdempotencyMismatch`` if it was another request."""
        held = await self._keys.find(team_id, claim.key, self._clock.now())
        if held is None:
            return None
        if held.fingerprint != claim.fingerprint:
            raise IdempotencyMismatch(
                f"Idempotency-Key {claim.key!r} was used for a different request "
                f"(execution {held.execution_id}); use a new key for a new request."
            )
        return held.execution_id
