"""The in-process live store: a dict of snapshots guarded by ``seq``."""

from __future__ import annotations

import dataclasses
import re
from collections import deque
from datetime import datetime, timedelta
from typing import Any

from pagemill.domain.clock import Clock, SystemClock
from pagemill.domain.errors import InvalidInput
from pagemill.domain.events import StepState, step_states
from pagemill.domain.models import ExecutionSnapshot
from pagemill.ports.live import LiveEvent, LiveStore

_EVENT_ID = re.compile(r"(\d+)(?:-(\d+))?")


def _event_key(event_id: str) -> tuple[int, int]:
    match = _EVENT_ID.fullmatch(event_id)
    if match is None:
        raise InvalidInput(f"Invalid event id {event_id!r}")
    return int(match.group(1)), int(match.group(2) or 0)


def _after(key: tuple[int, int], start: tuple[int, int], inclusive: bool) -> bool:
    return key >= start if inclusive else key > start


class MemoryLiveStore(LiveStore):
    """Holds the newest snapshot of each execution in this process.

    All methods run on the event loop without awaiting, so each is atomic; expired entries are
    dropped lazily on read and on write, by the time of ``clock``. Event ids look like Redis
    stream ids (``"<n>-0"``), ``n`` counting each execution's events from 1, as the Redis
    adapter does.
    """

    def __init__(
        self, max_entries: int = 100_000, max_events: int = 1000, clock: Clock | None = None
    ) -> None:
        self._clock = clock or SystemClock()
        self._entries: dict[str, ExecutionSnapshot] = {}
        self._expires: dict[str, datetime] = {}
        self._events: dict[str, deque[LiveEvent]] = {}
        self._max_entries = max_entries
        self._max_events = max_events
        self._counts: dict[str, int] = {}  # events ever appended per execution
        self._states: dict[str, tuple[StepState, ...]] = {}  # of the stored snapshot

    async def put(self, snapshot: ExecutionSnapshot) -> None:
        key = snapshot.execution.execution_id
        current = self._live(key)
        if current is not None and current.execution.seq > snapshot.execution.seq:
            return
        progress = dict(current.progress) if current is not None else {}
        self._entries[key] = dataclasses.replace(snapshot, progress=progress)
        states = step_states(snapshot.steps)
        if current is None or current.execution.seq < snapshot.execution.seq:
            self._append(
                key,
                type="snapshot",
                seq=snapshot.execution.seq,
                status=snapshot.execution.status,
                steps=states,
                previous=self._states.get(key) if current is not None else None,
            )
        self._states[key] = states  # an equal seq rewrites them, as it rewrites the entry
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
        self._append(
            execution_id,
            type="progress",
            seq=current.execution.seq,
            step_index=step_index,
            progress=dict(progress),
        )

    async def get(self, execution_id: str) -> ExecutionSnapshot | None:
        return self._live(execution_id)

    async def events(
        self,
        execution_id: str,
        after: str | None = None,
        count: int = 100,
        *,
        inclusive: bool = False,
    ) -> list[LiveEvent]:
        start = _event_key(after) if after is not None else None
        if count <= 0 or self._live(execution_id) is None:
            return []
        found = [
            e
            for e in self._events.get(execution_id, ())
            if start is None or _after(_event_key(e.id), start, inclusive)
        ]
        return found[:count]

    async def expire(self, execution_id: str, seconds: float) -> None:
        if self._live(execution_id) is not None:
            self._expires[execution_id] = self._clock.now() + timedelta(seconds=seconds)

    async def close(self) -> None:
        self._entries.clear()
        self._expires.clear()
        self._events.clear()
        self._counts.clear()
        self._states.clear()

    def _append(self, key: str, **fields: Any) -> None:
        log = self._events.get(key)
        if log is None:
            log = self._events[key] = deque(maxlen=self._max_events)
        number = self._counts[key] = self._counts.get(key, 0) + 1
        log.append(LiveEvent(id=f"{number}-0", **fields))

    def _drop(self, key: str) -> None:
        self._entries.pop(key, None)
        self._expires.pop(key, None)
        self._events.pop(key, None)
        self._counts.pop(key, None)
        self._states.pop(key, None)

    def _live(self, key: str) -> ExecutionSnapshot | None:
        deadline = self._expires.get(key)
        if deadline is not None and deadline <= self._clock.now():
            self._drop(key)
            return None
        return self._entries.get(key)

    def _evict(self) -> None:
        # Drop finished (expiring) entries first, then the oldest inserted ones.
        for key in list(self._expires):
            self._drop(key)
        while len(self._entries) > self._max_entries:
            self._drop(next(iter(self._entries)))
