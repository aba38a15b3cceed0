"""Sealing the secrets the ledger keeps: round trip, bound to their purpose and key."""

from __future__ import annotations

import pytest

from pagemill.domain.errors import ServiceUnavailable
from pagemill.services.secret_box import SecretBox

KEY = b"k" * 64


def test_a_sealed_secret_opens_only_for_its_purpose_and_key() -> None:
    box = SecretBox(KEY)
    sealed = box.seal("webhook:team_a", "whsec_abc")

    assert sealed.startswith(f"enc:v1:{box.key_id}:") and "whsec_abc" not in sealed
    assert box.seal("webhook:team_a", "whsec_abc") != sealed  # a fresh nonce each time
    assert box.open("webhook:team_a", sealed) == "whsec_abc"
    with pytest.raises(ServiceUnavailable, match="not the one for this use"):
        box.open("webhook:team_b", sealed)  # moved to another team's row
    with pytest.raises(ServiceUnavailable, match="sealed with another key"):
        SecretBox(b"x" * 64).open("webhook:team_a", sealed)
    with pytest.raises(ServiceUnavailable, match="no key is set"):
        SecretBox(None).open("webhook:team_a", sealed)
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(ServiceUnavailable, match="corrupt"):
        box.open("webhook:team_a", tampered)


def test_plain_values_pass_and_no_key_stores_them_plain() -> None:
    assert SecretBox(KEY).open("server:session", "stored-before-sealing") == "stored-before-sealing"
    assert SecretBox(None).seal("server:session", "plain") == "plain"
    with pytest.raises(ValueError, match="at least 32"):
        SecretBox(b"short")
