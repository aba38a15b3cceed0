"""scrypt password hashes: salted, self-describing, verified in constant time."""

from __future__ import annotations

from pagemill.services.passwords import hash_password, verify_password


def test_hashes_are_salted_and_carry_their_parameters() -> None:
    first, second = hash_password("a passphrase"), hash_password("a passphrase")

    assert first != second
    scheme, n, r, p, salt, digest = first.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert salt and digest
    assert verify_password("a passphrase", first)
    assert verify_password("a passphrase", second)
    assert not verify_password("a passphrasE", first)


def test_malformed_or_empty_hashes_never_verify() -> None:
    good = hash_password("a passphrase")
    for stored in ("", "scrypt$1$2", "bcrypt$" + good.split("$", 1)[1], good + "x"):
        assert not verify_password("a passphrase", stored), stored
    huge = "scrypt$1099511627776$8$1$" + "$".join(good.split("$")[4:])
    assert not verify_password("a passphrase", huge)
