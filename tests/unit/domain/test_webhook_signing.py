"""Standard Webhooks signatures: the specification's test vector and the receiver's checks."""

from __future__ import annotations

import base64

import pytest

from pagemill.domain.webhook_signing import (
    SECRET_PREFIX,
    new_secret,
    secret_key,
    sign,
    signature_header,
    signed_headers,
    verify,
)

# The test vector the Standard Webhooks libraries use in their own tests ("sign function").
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_specification_test_vector() -> None:
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_the_prefix_is_optional_when_reading_a_secret() -> None:
    bare = SPEC_SECRET.removeprefix(SECRET_PREFIX)
    assert sign(bare, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE
    assert secret_key(bare) == secret_key(SPEC_SECRET)


def test_a_new_secret_is_prefixed_base64_of_32_random_bytes() -> None:
    first, second = new_secret(), new_secret()
    assert first.startswith("whsec_") and first != second
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 32
    with pytest.raises(ValueError, match="24 to 64"):
        new_secret(16)  # the specification asks for at least 24 bytes


def test_a_receiver_verifies_the_headers_it_gets() -> None:
    headers = signed_headers([SPEC_SECRET], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)
    assert headers == {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_TIMESTAMP),
        "webhook-signature": SPEC_SIGNATURE,
    }
    now = SPEC_TIMESTAMP + 10
    assert verify(SPEC_SECRET, headers, SPEC_BODY, now)
    upper = {key.upper(): value for key, value in headers.items()}
    assert verify(SPEC_SECRET, upper, SPEC_BODY, now)  # header names are case-insensitive


@pytest.mark.parametrize(
    "change",
    [
        "body",
        "id",
        "timestamp",
        "secret",
        "too old",
        "too new",
        "missing id",
        "missing signature",
        "other version",
    ],
)
def test_a_receiver_rejects_anything_altered(change: str) -> None:
    headers = signed_headers([SPEC_SECRET], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)
    body, secret, now = SPEC_BODY, SPEC_SECRET, float(SPEC_TIMESTAMP)
    if change == "body":
        body = b'{"test": 2432232315}'
    elif change == "id":
        headers["webhook-id"] = "msg_other"
    elif change == "timestamp":
        headers["webhook-timestamp"] = str(SPEC_TIMESTAMP + 1)
    elif change == "secret":
        secret = new_secret()
    elif change == "too old":
        now += 301
    elif change == "too new":
        now -= 301
    elif change == "missing id":
        del headers["webhook-id"]
    elif change == "missing signature":
        del headers["webhook-signature"]
    elif change == "other version":
        headers["webhook-signature"] = headers["webhook-signature"].replace("v1,", "v1a,")
    assert not verify(secret, headers, body, now)


def test_rotation_signs_with_every_secret_and_either_verifies() -> None:
    old, new = new_secret(), new_secret()
    header = signature_header([new, old], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)
    assert len(header.split(" ")) == 2
    headers = {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_TIMESTAMP),
        "webhook-signature": header,
    }
    assert verify(old, headers, SPEC_BODY, SPEC_TIMESTAMP)
    assert verify(new, headers, SPEC_BODY, SPEC_TIMESTAMP)
    assert not verify(new_secret(), headers, SPEC_BODY, SPEC_TIMESTAMP)


def test_ids_with_a_full_stop_are_refused() -> None:
    with pytest.raises(ValueError, match="contain no"):
        sign(SPEC_SECRET, "msg.1", SPEC_TIMESTAMP, SPEC_BODY)
    with pytest.raises(ValueError, match="at least one secret"):
        signature_header([], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)
