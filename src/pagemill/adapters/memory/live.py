"""The in-process live store: a dict of snapshots guarded by ``seq``."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from pagemill.domain.models import ExecutionSnapshot
from pagemill.ports.live import LiveStore


class MemoryLiveStore(LiveStore):
    """Holds the newest snapshot of each execution in this process.

    All methods run on the event loop without awaiting, so each is atomic; expired entries are
    dropped lazily on read and on write.
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        self._entries: dict[str, ExecutionSnapshot] = {}
        self._expires: dict[str, float] = {}
        self._max_entries = max_entries

    async def put(self, snapshot: ExecutionSnapshot) -> None:
        key = snapshot.execution.execution_id
        current = self._live(key)
        if current is not None and current.execution.seq > snapshot.execution.seq:
            return
        progress = dict(current.progress) if current is not None else {}
        self._entries[key] = dataclasses.replace(snapshot, progress=progress)
        if len(self._entries) > self._max_entries:
            self._evict()

    async def progress(self, execution_id: str, step_index: int, progress: dict[str, Any]) -> None:
        current = self._live(execution_id)
        if current is None:
            return
        merged = {
            **current.progress,
            step_index: {**current.progress.get(step_index, {}), **progress},
        }
        self._entries[execution_id] = dataclasses.replace(current, progress=merged)

    async def get(self, execution_id: str) -> ExecutionSnapshot | None:
        return self._live(execution_id)

    async def expire(self, execution_id: str, seconds: float) -> None:
        if execution_id in self._entries:
            self._expires[execution_id] = time.monotonic() + seconds

    async def close(self) -> None:
        self._entries.clear()
        self._expires.clear()

    def _live(self, key: str) -> ExecutionSnapshot | None:
        deadline = self._expires.get(key)
        if deadline is not None and deadline <= time.monotonic():
            self._entries.pop(key, None)
            self._expires.pop(key, None)
            return None
        return self._entries.get(key)

    def _evict(self) -> None:
        # Drop finished (expiring) entries first, then the oldest inserted ones.
        for key in list(self._expires):
            self._entries.pop(key, None)
            self._expires.pop(key, None)
        while len(self._entries) > self._max_entries:
            self._entries.pop(next(iter(self._entries)))
