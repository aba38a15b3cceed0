"""Standard Webhooks signatures (symmetric, ``v1``): pure functions, no I/O.

A secret is ``whsec_`` followed by the base64 of 24 to 64 random bytes. The signed content is
``{webhook-id}.{webhook-timestamp}.{body}`` (the exact body bytes sent); the signature is the
base64 of its HMAC-SHA256, sent as ``v1,<signature>`` in the ``webhook-signature`` header. The
header may carry several space-separated signatures (one per secret still valid, for rotation
without downtime); a receiver accepts the message when any of them matches.

Specification: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
SIGNATURE_VERSION = "v1"
SECRET_BYTES = 32  # the specification asks for 24 to 64
DEFAULT_TOLERANCE_SECONDS = 300  # how far a receiver accepts webhook-timestamp from its clock

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"


def new_secret(size: int = SECRET_BYTES) -> str:
    """A fresh ``whsec_…`` secret."""
    if not 24 <= size <= 64:
        raise ValueError("a webhook secret has 24 to 64 random bytes")
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(size)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key of a secret, with or without its ``whsec_`` prefix."""
    raw = secret.removeprefix(SECRET_PREFIX)
    try:
        # Extra padding is ignored; it makes unpadded base64 acceptable too.
        key = base64.b64decode(raw + "==", validate=False)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("the webhook secret is not base64") from exc
    if not key:
        raise ValueError("the webhook secret is empty")
    return key


def signed_content(message_id: str, timestamp: int, body: bytes) -> bytes:
    """What the signature covers. The id and timestamp must not contain a full stop."""
    if not message_id or "." in message_id:
        raise ValueError("a webhook id must be non-empty and contain no '.'")
    return f"{message_id}.{timestamp}.".encode() + body


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` of one message under one secret."""
    digest = hmac.new(
        secret_key(secret), signed_content(message_id, timestamp, body), hashlib.sha256
    ).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


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


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float,
    *,
    tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """What a receiver does: the headers are present, the timestamp is within ``tolerance``
    of ``now`` (unix seconds) and one ``v1`` signature matches (compared in constant time)."""
    lowered = {key.lower(): value for key, value in headers.items()}
    message_id = lowered.get(ID_HEADER, "")
    stamp = lowered.get(TIMESTAMP_HEADER, "")
    header = lowered.get(SIGNATURE_HEADER, "")
    if not (message_id and stamp.isdigit() and header):
        return False
    timestamp = int(stamp)
    if abs(now - timestamp) > tolerance_seconds:
        return False
    try:
        expected = sign(secret, message_id, timestamp, body).encode()
    except ValueError:
        return False
    return any(
        hmac.compare_digest(expected, candidate.encode())
        for candidate in header.split(" ")
        if candidate.startswith(f"{SIGNATURE_VERSION},")
    )
