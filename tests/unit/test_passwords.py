"""Password hashes: argon2id for new ones, scrypt ones from earlier versions still verify and
are marked for a rehash; salted, self-describing, and nothing malformed ever verifies."""

from __future__ import annotations

import base64
import hashlib
import secrets

from argon2 import PasswordHasher

from pagemill.services.passwords import hash_password, needs_rehash, verify_password


def scrypt_hash(password: str, n: int = 2**14, r: int = 8, p: int = 1) -> str:
    """A hash as earlier versions of pagemill stored it."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return (
        f"scrypt${n}${r}${p}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    )


def test_new_hashes_are_salted_argon2id_with_their_parameters() -> None:
    first, second = hash_password("a passphrase"), hash_password("a passphrase")

    assert first != second
    assert first.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password("a passphrase", first)
    assert verify_password("a passphrase", second)
    assert not verify_password("a passphrasE", first)
    assert not needs_rehash(first)


def test_scrypt_hashes_of_earlier_versions_verify_and_need_a_rehash() -> None:
    old = scrypt_hash("a passphrase")

    assert verify_password("a passphrase", old)
    assert not verify_password("a passphrasE", old)
    assert needs_rehash(old)


def test_argon2_hashes_made_at_another_cost_verify_and_need_a_rehash() -> None:
    weaker = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("pw")

    assert verify_password("pw", weaker)
    assert needs_rehash(weaker)


def test_malformed_or_empty_hashes_never_verify() -> None:
    scrypt = scrypt_hash("a passphrase")
    argon = hash_password("a passphrase")
    for stored in (
        "",
        "scrypt$1$2",
        "bcrypt$" + scrypt.split("$", 1)[1],
        scrypt + "x",
        argon + "x",
        argon.replace("argon2id", "argon2xx"),
        "$argon2id$garbage",
    ):
        assert not verify_password("a passphrase", stored), stored
    huge = "scrypt$1099511627776$8$1$" + "$".join(scrypt.split("$")[4:])
    assert not verify_password("a passphrase", huge)
