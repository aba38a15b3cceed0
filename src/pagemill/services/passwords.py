"""Password hashing: argon2id (argon2-cffi) for every new hash; scrypt hashes that earlier
versions stored keep verifying, and are replaced by argon2id at the next successful login.

argon2id uses OWASP's recommended minimum cost (19 MiB, two passes, one lane); its hash is the
PHC string (``$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>``), which carries its own parameters, so
raising them later only makes older hashes ``needs_rehash``.

The scrypt format earlier versions wrote: ``scrypt$<n>$<r>$<p>$<salt, base64>$<hash, base64>``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_ARGON2 = "$argon2"
_SCRYPT = "scrypt"
_SCRYPT_MAXMEM = 64 * 1024 * 1024


def hash_password(password: str) -> str:
    """A new argon2id hash of ``password`` (random salt)."""
    return _HASHER.hash(password)


# Verified against when a user has no usable hash, so that the time taken does not tell
# "no such user" (or "no password set") from "wrong password".
_DUMMY = hash_password(secrets.token_urlsafe(16))


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored`` (argon2id, or scrypt from earlier versions);
    False for any malformed or empty hash."""
    if stored.startswith(f"{_SCRYPT}$"):
        return _verify_scrypt(password, stored)
    usable = stored.startswith(_ARGON2)
    try:
        matches = _HASHER.verify(stored if usable else _DUMMY, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return matches and usable


def needs_rehash(stored: str) -> bool:
    """True for a hash that verified but is not argon2id at today's cost (scrypt, or older
    parameters): the login that proved the password replaces it."""
    if not stored.startswith(_ARGON2):
        return True
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def _verify_scrypt(password: str, stored: str) -> bool:
    # Kept by hand: argon2-cffi verifies argon2 only; hashlib's scrypt is the one needed.
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest, validate=True)
        if scheme != _SCRYPT or not expected:
            return False
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt, validate=True),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_SCRYPT_MAXMEM,
            dklen=len(expected),
        )
    except ValueError:  # malformed, or parameters beyond what scrypt accepts: not our hash
        return False
    return hmac.compare_digest(actual, expected)


async def hash_password_async(password: str) -> str:
    """``hash_password`` off the event loop (it takes tens of milliseconds on purpose)."""
    return await asyncio.to_thread(hash_password, password)


async def verify_password_async(password: str, stored: str) -> bool:
    return await asyncio.to_thread(verify_password, password, stored)
