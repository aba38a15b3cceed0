"""Secrets the ledger must give back (webhook signing secrets, the session signing key) are
stored sealed: AES-256-GCM under a key kept outside the ledger.

They cannot be hashed like API keys: signing a webhook or a cookie needs the secret itself.
Sealed, a copy of the ledger (a backup, a file left readable) yields none of them without the
key, which lives in ``PAGEMILL_SECRETS_KEY`` or, for the embedded server, in the data
directory's ``secrets_key`` file (mode 0600). Each value is bound to what it is for (its
*purpose*, e.g. ``webhook:<team>``), so a sealed value moved to another row does not open.

Stored form: ``enc:v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>``; the key id (the first
8 hex digits of the key's SHA-256) tells a wrong key from a corrupt value. A value without the
prefix was stored before sealing existed (or without a key) and is returned as it is.
"""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pagemill.domain.errors import ServiceUnavailable

PREFIX = "enc:v1:"
_NONCE_BYTES = 12
_KEY_HINT = "set PAGEMILL_SECRETS_KEY to the key the ledger's secrets were sealed with"


class SecretBox:
    def __init__(self, key: bytes | None) -> None:
        """``key``: any secret of at least 32 bytes (a 256-bit key is derived from it); None
        stores secrets as they are (a PostgreSQL ledger without ``PAGEMILL_SECRETS_KEY``)."""
        if key is not None and len(key) < 32:
            raise ValueError("The secrets key must have at least 32 characters.")
        derived = hashlib.sha256(b"pagemill secrets v1\0" + key).digest() if key else None
        self._aead = AESGCM(derived) if derived else None
        self.key_id = hashlib.sha256(derived).hexdigest()[:8] if derived else ""

    @property
    def enabled(self) -> bool:
        return self._aead is not None

    @staticmethod
    def is_sealed(stored: str) -> bool:
        return stored.startswith(PREFIX)

    def seal(self, purpose: str, plain: str) -> str:
        if self._aead is None:
            return plain
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plain.encode(), purpose.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")
        return f"{PREFIX}{self.key_id}:{body}"

    def open(self, purpose: str, stored: str) -> str:
        """The plain secret; ``ServiceUnavailable`` (naming the cause) when it cannot be
        opened with this server's key."""
        if not self.is_sealed(stored):
            return stored
        key_id, _, body = stored[len(PREFIX) :].partition(":")
        if self._aead is None:
            raise ServiceUnavailable(f"A stored secret is sealed but no key is set: {_KEY_HINT}.")
        if key_id != self.key_id:
            raise ServiceUnavailable(
                f"A stored secret was sealed with another key ({key_id}, this server has "
                f"{self.key_id}): {_KEY_HINT}."
            )
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], purpose.encode())
        except (InvalidTag, ValueError) as error:
            raise ServiceUnavailable(
                "A stored secret cannot be opened: it is corrupt or not the one for this use."
            ) from error
        return plain.decode()
