"""Password hashing with scrypt (``hashlib.scrypt``): a random salt per password, the cost
parameters stored in the hash string, verification in constant time.

Format: ``scrypt$<n>$<r>$<p>$<salt, base64>$<hash, base64>``. Raising the parameters later only
affects new hashes; old ones keep verifying with the parameters they were made with.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets

_N = 2**14  # CPU/memory cost: 128 · n · r bytes = 16 MiB and ~50 ms per hash
_R = 8
_P = 1
_DKLEN = 32
_SALT_BYTES = 16
_MAXMEM = 64 * 1024 * 1024
_SCHEME = "scrypt"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _derive(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=dklen
    )


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _derive(password, salt, _N, _R, _P, _DKLEN)
    return f"{_SCHEME}${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


# Verified against when a user has no usable hash, so that the time taken does not tell
# "no such user" (or "no password set") from "wrong password".
_DUMMY = hash_password(secrets.token_urlsafe(16))


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored``; False for any malformed or empty hash."""
    usable = True
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != _SCHEME:
            raise ValueError(scheme)
        cost = (int(n), int(r), int(p))
        salt_bytes = base64.b64decode(salt, validate=True)
        expected = base64.b64decode(digest, validate=True)
        if not expected:
            raise ValueError("empty hash")
    except ValueError:
        usable = False
        scheme, n, r, p, salt, digest = _DUMMY.split("$")
        cost = (int(n), int(r), int(p))
        salt_bytes = base64.b64decode(salt)
        expected = base64.b64decode(digest)
    try:
        actual = _derive(password, salt_bytes, *cost, dklen=len(expected))
    except ValueError:  # parameters beyond what scrypt accepts: not a hash we made
        return False
    return hmac.compare_digest(actual, expected) and usable


async def hash_password_async(password: str) -> str:
    """``hash_password`` off the event loop (it takes tens of milliseconds on purpose)."""
    return await asyncio.to_thread(hash_password, password)


async def verify_password_async(password: str, stored: str) -> bool:
    return await asyncio.to_thread(verify_password, password, stored)
