"""Standard Webhooks signatures: the specification's test vector, the bytes on the wire, and
what a receiver using the ``standardwebhooks`` library's ``verify`` accepts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from pagemill.domain.webhook_signing import (
    SECRET_PREFIX,
    new_secret,
    sign,
    signature_header,
    signed_headers,
)

# The test vector the Standard Webhooks libraries use in their own tests ("sign function").
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
BODY = b'{"type": "execution.finished", "execution_id": "pex_1"}'


def written_out(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The signature as docs/api.md spells it out for receivers (and as earlier versions of
    pagemill computed it by hand)."""
    key = base64.b64decode(secret.removeprefix("whsec_") + "==")
    mac = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def verifies(secret: str, headers: dict[str, str], body: bytes) -> bool:
    try:
        Webhook(secret).verify(body, headers, json_parse=False)
    except WebhookVerificationError:
        return False
    return True


def test_the_specification_test_vector() -> None:
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_the_prefix_is_optional_when_reading_a_secret() -> None:
    bare = SPEC_SECRET.removeprefix(SECRET_PREFIX)
    assert sign(bare, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_the_signature_bytes_are_the_written_out_formula() -> None:
    rng = random.Random(7)
    for _ in range(200):
        secret = new_secret(rng.randint(24, 64))
        message_id = f"whd_{rng.getrandbits(53)}"
        timestamp = rng.randint(0, 2**33)
        body = rng.randbytes(rng.randint(0, 300))  # any bytes, not only UTF-8
        assert sign(secret, message_id, timestamp, body) == written_out(
            secret, message_id, timestamp, body
        )


def test_a_new_secret_is_prefixed_base64_of_32_random_bytes() -> None:
    first, second = new_secret(), new_secret()
    assert first.startswith("whsec_") and first != second
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 32
    with pytest.raises(ValueError, match="24 to 64"):
        new_secret(16)  # the specification asks for at least 24 bytes


def test_the_headers_of_an_attempt() -> None:
    headers = signed_headers([SPEC_SECRET], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)
    assert headers == {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_TIMESTAMP),
        "webhook-signature": SPEC_SIGNATURE,
    }


def test_the_library_verifies_what_is_sent() -> None:
    secret = new_secret()
    headers = signed_headers([secret], "whd_1", int(time.time()), BODY)
    assert verifies(secret, headers, BODY)
    upper = {key.upper(): value for key, value in headers.items()}
    assert verifies(secret, upper, BODY)  # header names are case-insensitive


@pytest.mark.parametrize("change", ["body", "id", "timestamp", "secret"])
def test_the_library_rejects_anything_altered(change: str) -> None:
    secret = new_secret()
    now = int(time.time())
    headers = signed_headers([secret], "whd_1", now, BODY)
    body = BODY
    if change == "body":
        body = BODY.replace(b"pex_1", b"pex_2")
    elif change == "id":
        headers["webhook-id"] = "whd_2"
    elif change == "timestamp":
        headers["webhook-timestamp"] = str(now + 1)
    elif change == "secret":
        secret = new_secret()
    assert not verifies(secret, headers, body)


def test_rotation_signs_with_every_secret_and_either_verifies() -> None:
    old, new = new_secret(), new_secret()
    now = int(time.time())
    header = signature_header([new, old], "whd_1", now, BODY)
    assert len(header.split(" ")) == 2
    headers = {"webhook-id": "whd_1", "webhook-timestamp": str(now), "webhook-signature": header}
    assert verifies(old, headers, BODY)
    assert verifies(new, headers, BODY)
    assert not verifies(new_secret(), headers, BODY)


def test_ids_with_a_full_stop_are_refused() -> None:
    with pytest.raises(ValueError, match="contain no"):
        sign(SPEC_SECRET, "msg.1", SPEC_TIMESTAMP, SPEC_BODY)
    with pytest.raises(ValueError, match="at least one secret"):
        signature_header([], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)
