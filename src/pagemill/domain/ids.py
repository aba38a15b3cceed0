"""Public identifiers: a type prefix and random base62 characters (``pl_k8Hx9mP2nQ4v``), and the
random numbers that stand for files and pipeline rows where the wire wants an integer."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.digits + string.ascii_letters
_RANDOM_LENGTH = 14  # 62**14 ≈ 1.2e25: collisions are not a practical concern.

PIPELINE_PREFIX = "pl_"
EXECUTION_PREFIX = "pex_"
TEAM_PREFIX = "team_"
KEY_PREFIX = "key_"
CHECKPOINT_PREFIX = "ckpt_"
LOOKUP_PREFIX = "req_"


def random_base62(length: int = _RANDOM_LENGTH) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_id(prefix: str) -> str:
    return prefix + random_base62()


def new_pipeline_id() -> str:
    return new_id(PIPELINE_PREFIX)


def new_execution_id() -> str:
    return new_id(EXECUTION_PREFIX)


# Integer ids on the wire (``file_id``, a pipeline's ``id``) are random, not a global sequence
# that would let a team count everyone's uploads from the gaps. They lie above 2**32, clear of
# every sequential id issued before (those fit in 31 bits), and at most 2**53 - 1, the largest
# integer JavaScript clients read exactly. Among 2**53 numbers a repeat is as good as
# impossible (the primary key would refuse it: one failed request).
PUBLIC_NUMBER_MIN = 2**32
PUBLIC_NUMBER_MAX = 2**53 - 1


def new_public_number() -> int:
    return PUBLIC_NUMBER_MIN + secrets.randbelow(PUBLIC_NUMBER_MAX - PUBLIC_NUMBER_MIN + 1)


def has_prefix(value: str, prefix: str) -> bool:
    """True when ``value`` is ``prefix`` followed by base62 characters only."""
    rest = value[len(prefix) :]
    return value.startswith(prefix) and 0 < len(rest) <= 64 and all(c in _ALPHABET for c in rest)
