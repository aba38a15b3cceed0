"""Executor cache keys: identical work gets the identical key, anything else a different one."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

# Settings that say how to run, not what to compute: they never split the cache.
_NOT_PART_OF_THE_WORK = frozenset({"skip_cache", "force_new", "save_checkpoint", "webhook_url"})


def step_cache_key(
    *,
    team_id: str,
    input_sha256: str,
    step_type: str,
    processor_version: str,
    settings: Mapping[str, Any],
    page_range: str | None,
    output_format: str | None,
    upstream_key: str | None,
) -> str:
    """SHA-256 over the canonical JSON of everything that determines a step's output.

    ``upstream_key`` chains the keys: a step's input is its upstream step's output, which is
    identified by that step's own key.
    """
    material = {
        "team": team_id,
        "input": input_sha256,
        "type": step_type,
        "version": processor_version,
        "settings": {k: v for k, v in settings.items() if k not in _NOT_PART_OF_THE_WORK},
        "page_range": page_range,
        "output_format": output_format,
        "upstream": upstream_key,
    }
    canonical = json.dumps(material, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
