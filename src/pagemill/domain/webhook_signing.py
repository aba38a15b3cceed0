"""Standard Webhooks signatures (symmetric, ``v1``): pure functions, no I/O.

A secret is ``whsec_`` followed by the base64 of 24 to 64 random bytes. The signed content is
``{webhook-id}.{webhook-timestamp}.{body}`` (the exact body bytes sent); the signature is the
base64 of its HMAC-SHA256, sent as ``v1,<signature>`` in the ``webhook-signature`` header. The
header may carry several space-separated signatures (one per secret still valid, for rotation
without downtime); a receiver accepts the message when any of them matches.

Each signature is made by the ``standardwebhooks`` library (the specification's reference
implementation). Kept here: new secrets, refusing an id with a full stop, and one header signed
by several secrets — the library has none of the three (it signs any id, one secret at a time).

Specification: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
SECRET_BYTES = 32  # the specification asks for 24 to 64

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"


def new_secret(size: int = SECRET_BYTES) -> str:
    """A fresh ``whsec_…`` secret."""
    if not 24 <= size <= 64:
        raise ValueError("a webhook secret has 24 to 64 random bytes")
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(size)).decode("ascii")


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` of one message under one secret (with or without its
    ``whsec_`` prefix). The id must not contain a full stop: it ends the id in the signed
    content."""
    if not message_id or "." in message_id:
        raise ValueError("a webhook id must be non-empty and contain no '.'")
    return Webhook(secret).sign(message_id, datetime.fromtimestamp(timestamp, UTC), body)


def signature_header(secrets_: Sequence[str], message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: one signature per secret, space-separated."""
    if not secrets_:
        raise ValueError("at least one secret is needed to sign")
    return " ".join(sign(secret, message_id, timestamp, body) for secret in secrets_)


def signed_headers(
    secrets_: Sequence[str], message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt."""
    return {
        ID_HEADER: message_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature_header(secrets_, message_id, timestamp, body),
    }
