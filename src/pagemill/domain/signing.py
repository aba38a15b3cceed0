"""Expiring HMAC signatures for pagemill's own upload and download URLs.

A signed URL carries ``expires`` (Unix seconds) and ``signature``: HMAC-SHA-256, in hex, over
the HTTP method, the file id, the owning team and the expiry. It is the only credential of the
request (no API key), so it is bound to one method and one file and compared in constant time.
Pure functions: the secret and the time are the caller's.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_LENGTH = 64  # hex digits of SHA-256


def _message(method: str, file_id: int, team_id: str, expires: int) -> bytes:
    # Newline-separated: no field can contain one (ids are digits or base62, methods letters).
    return f"pagemill-file-url\n{method.upper()}\n{file_id}\n{team_id}\n{expires}".encode()


def sign(secret: bytes, method: str, file_id: int, team_id: str, expires: int) -> str:
    """The hex signature of ``method`` on ``file_id`` of ``team_id`` until ``expires``."""
    return hmac.new(secret, _message(method, file_id, team_id, expires), hashlib.sha256).hexdigest()


def verify(
    secret: bytes,
    method: str,
    file_id: int,
    team_id: str,
    expires: int,
    signature: str,
    now: float,
) -> bool:
    """True when ``signature`` is this server's for exactly these values and not expired."""
    if expires < now:
        return False
    if len(signature) != SIGNATURE_LENGTH:
        return False
    expected = sign(secret, method, file_id, team_id, expires)
    return hmac.compare_digest(expected.encode(), signature.lower().encode("ascii", "replace"))


def sign_fields(secret: bytes, purpose: str, fields: tuple[str | int, ...], expires: int) -> str:
    """The hex signature of ``fields`` for ``purpose`` until ``expires``: other signed URLs
    (workflow step outputs) than the file URLs, each purpose its own message."""
    parts = "\n".join(str(field) for field in fields)
    message = f"pagemill-{purpose}\n{parts}\n{expires}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def verify_fields(
    secret: bytes,
    purpose: str,
    fields: tuple[str | int, ...],
    expires: int,
    signature: str,
    now: float,
) -> bool:
    """True when ``signature`` is ``sign_fields``'s for exactly these values, not expired."""
    if expires < now or len(signature) != SIGNATURE_LENGTH:
        return False
    expected = sign_fields(secret, purpose, fields, expires)
    return hmac.compare_digest(expected.encode(), signature.lower().encode("ascii", "replace"))
