"""Public identifiers: a type prefix and random base62 characters (``pl_k8Hx9mP2nQ4v``)."""

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


def has_prefix(value: str, prefix: str) -> bool:
    """True when ``value`` is ``prefix`` followed by base62 characters only."""
    rest = value[len(prefix) :]
    return value.startswith(prefix) and 0 < len(rest) <= 64 and all(c in _ALPHABET for c in rest)
