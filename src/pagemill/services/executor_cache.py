"""The executor cache: identical work of a team is done once and reused.

A step's key covers the input bytes, the processor type and version, its settings, the page
range and output format, and — chained — the keys of every step before it. ``skip_cache``
bypasses the lookup (the fresh result still refreshes the entry).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pagemill.domain.cache import step_cache_key
from pagemill.domain.errors import PagemillError
from pagemill.domain.models import CacheEntry, Claim
from pagemill.ports.blobs import BlobStore
from pagemill.ports.ledger.steps import StepLedger
from pagemill.processors.registry import ProcessorRegistry

CHECKPOINTS_FOLDER = "checkpoints/"


def checkpoint_key(checkpoint_id: str) -> str:
    return f"{CHECKPOINTS_FOLDER}{checkpoint_id}.json"


def checkpoint_id_of(key: str) -> str | None:
    """The checkpoint id a ``checkpoint_key`` names; None for any other key."""
    if not key.startswith(CHECKPOINTS_FOLDER) or not key.endswith(".json"):
        return None
    return key[len(CHECKPOINTS_FOLDER) : -len(".json")] or None


@dataclass(frozen=True, slots=True)
class Reusable:
    entry: CacheEntry
    payload: dict[str, Any]  # the earlier result, to be re-addressed to the new step

    @property
    def outcome(self) -> dict[str, Any]:
        return {
            "status": "hit",
            "source_execution_id": self.entry.source_execution_id,
            "source_step_index": self.entry.source_step_index,
        }


class ExecutorCache:
    def __init__(self, steps: StepLedger, blobs: BlobStore, processors: ProcessorRegistry) -> None:
        self._steps = steps
        self._blobs = blobs
        self._processors = processors

    def key_for(self, claim: Claim) -> str | None:
        """The key of the claimed step's work; None when it cannot be keyed."""
        execution = claim.execution
        config = execution.input_config
        sha256 = config.get("sha256")
        if not sha256:
            return None
        key: str | None = None
        for step in claim.snapshot.steps[: claim.step.step_index + 1]:
            try:
                version = self._processors.get(step.step_type).version
            except PagemillError:
                return None
            key = step_cache_key(
                team_id=execution.team_id,
                input_sha256=str(sha256),
                step_type=step.step_type,
                processor_version=version,
                settings=step.settings,
                page_range=config.get("page_range"),
                output_format=config.get("output_format") if step.step_type == "convert" else None,
                upstream_key=key,
            )
        return key

    async def find(self, team_id: str, key: str) -> Reusable | None:
        """Earlier work under ``key`` whose blobs still exist."""
        entry = await self._steps.cached(team_id, key)
        if entry is None:
            return None
        try:
            payload = json.loads(await self._blobs.read_bytes(entry.result_key))
            if entry.checkpoint_id and not await self._blobs.exists(
                checkpoint_key(entry.checkpoint_id)
            ):
                return None
        except (PagemillError, ValueError):
            return None  # the cached blobs are gone or unreadable: do the work again
        if not isinstance(payload, dict):
            return None
        return Reusable(entry=entry, payload=payload)
