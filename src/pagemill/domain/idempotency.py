"""Idempotent submission: the same ``Idempotency-Key`` and the same request give the same
execution; the same key with another request is refused; keys expire.

A request is identified by a fingerprint: SHA-256 over the canonical JSON of what the client
asked (the endpoint, its fields, the document's content or URL), never of what the server
derived from it, so that a retry after the pipeline was edited is still the same request.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pagemill.domain.errors import InvalidInput

MAX_KEY_LENGTH = 255


def check_idempotency_key(value: str) -> str:
    """The key as sent: 1 to 255 visible ASCII characters (what HTTP headers carry safely)."""
    if not 0 < len(value) <= MAX_KEY_LENGTH or not all(33 <= ord(ch) <= 126 for ch in value):
        raise InvalidInput(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} visible ASCII characters "
            "(no spaces), for example a UUID."
        )
    return value


def request_fingerprint(material: Mapping[str, Any]) -> str:
    """SHA-256 (hex) over the canonical JSON of ``material``."""
    canonical = json.dumps(material, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    """A submission made with an ``Idempotency-Key``, as its endpoint describes it.

    ``scope`` names what was asked (``pipelines/{id}/run``, ``convert``…) and ``fields`` the
    request's own fields beyond the run options and the document, which the service adds.
    """

    key: str
    scope: str
    fields: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    """What a submission with a key asks the ledger to record with its new execution."""

    key: str
    fingerprint: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """A key the ledger holds: which request used it, for which execution, until when."""

    team_id: str
    key: str
    fingerprint: str
    execution_id: str
    created: datetime
    expires_at: datetime

    def live(self, now: datetime) -> bool:
        return now < self.expires_at
